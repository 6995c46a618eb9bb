"""
Tests for C{txendpoints relay} and C{twist tx-relay}: arguments and errors.

Running relays are tested in L{tests.test_real_relay}.
"""

from __future__ import annotations

import io
import subprocess
import sys

from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._options import OPTIONS
from txendpoints._relay._service import RelayService
from txendpoints._relay._twist import Options, makeService
from txendpoints._tools._cli import main


class RelayCommandErrorTests(SynchronousTestCase):
    """
    Bad arguments end the command with status 2 and one clear line, before
    anything listens.
    """

    def relay(self, *args: str) -> tuple[int, str]:
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        try:
            status = main(["relay", *args])
        except SystemExit as e:
            status = e.code  # type: ignore[assignment]
        return status, stderr.getvalue()

    def test_ourBadString(self) -> None:
        status, err = self.relay("tx-tcp4:http", "tcp:127.0.0.1:80")
        self.assertEqual(status, 2)
        self.assertEqual(
            err,
            "txendpoints relay: error: "
            "LISTEN: tx-tcp4: port 'http' is not a number from 0 to 65535\n",
        )

    def test_clientStringToListen(self) -> None:
        """
        A client string given as LISTEN gets the server string to write.
        """
        status, err = self.relay("tx-tcp4:127.0.0.1:8080", "tcp:127.0.0.1:80")
        self.assertEqual(status, 2)
        self.assertIn(
            "txendpoints relay: error: LISTEN: tx-tcp4: unexpected positional",
            err,
        )
        self.assertIn(
            "it is a client string (to connect to 127.0.0.1 port 8080); to "
            "listen there, write tx-tcp4:8080:interface=127.0.0.1 (a server "
            "string takes the address as interface=)\n",
            err,
        )

    def test_serverStringToConnect(self) -> None:
        status, err = self.relay("tx-tcp4:0", "tx-tcp6:8080")
        self.assertEqual(status, 2)
        self.assertTrue(err.startswith("txendpoints relay: error: CONNECT: tx-tcp6"))
        self.assertIn("; it is a server string (one to listen on)", err)

    def test_misspeltOption(self) -> None:
        status, err = self.relay("tx-tcp4:0:backlg=5", "tcp:127.0.0.1:80")
        self.assertEqual(status, 2)
        self.assertIn("option 'backlg' is unknown; did you mean 'backlog'?", err)

    def test_unknownPrefix(self) -> None:
        status, err = self.relay("tx-tcp4:0", "nope:127.0.0.1:80")
        self.assertEqual(status, 2)
        self.assertEqual(
            err,
            "txendpoints relay: error: CONNECT: unknown client endpoint type "
            "'nope'; see 'txendpoints list'\n",
        )

    def test_misspeltPrefix(self) -> None:
        """
        A misspelt prefix gets the did-you-mean that check gives.
        """
        status, err = self.relay("tx-tcp5:80", "tcp:127.0.0.1:80")
        self.assertEqual(status, 2)
        self.assertEqual(
            err,
            "txendpoints relay: error: LISTEN: unknown server endpoint type "
            "'tx-tcp5'; did you mean 'tx-tcp6'?\n",
        )

    def test_twistedTypeError(self) -> None:
        """
        Twisted's own parsers report a missing port as a L{TypeError}; it is
        reported as a bad string all the same.
        """
        status, err = self.relay("tx-tcp4:0", "tcp:127.0.0.1")
        self.assertEqual(status, 2)
        self.assertIn(
            "error: CONNECT: 'tcp:127.0.0.1' was rejected by its parser: TypeError",
            err,
        )

    def test_badMaxConnections(self) -> None:
        status, err = self.relay(
            "tx-tcp4:0", "tcp:127.0.0.1:80", "--max-connections", "0"
        )
        self.assertEqual(status, 2)
        self.assertIn("--max-connections '0' is not a number of 1 or more", err)

    def test_badGrace(self) -> None:
        status, err = self.relay("tx-tcp4:0", "tcp:127.0.0.1:80", "--grace", "soon")
        self.assertEqual(status, 2)
        self.assertIn("--grace 'soon' is not a number of seconds", err)

    def test_missingConnect(self) -> None:
        status, err = self.relay("tx-tcp4:0")
        self.assertEqual(status, 2)
        self.assertIn("CONNECT", err)

    def test_help(self) -> None:
        """
        C{txendpoints relay --help} lists every relay option.
        """
        stdout = io.StringIO()
        self.patch(sys, "stdout", stdout)
        with self.assertRaises(SystemExit):
            main(["relay", "--help"])
        text = stdout.getvalue()
        for option in OPTIONS:
            self.assertIn(f"--{option.name} {option.metavar}", text)
        self.assertIn("--reactor NAME", text)

    def test_badReactor(self) -> None:
        """
        An unknown reactor is a usage error, status 2, before anything
        installs the default reactor.
        """
        status, err = self.relay("tx-tcp4:0", "tcp:127.0.0.1:80", "--reactor", "nope")
        self.assertEqual(status, 2)
        self.assertTrue(
            err.startswith(
                "txendpoints relay: error: --reactor 'nope' is not a reactor"
            )
        )

    def test_noTraceback(self) -> None:
        """
        From the shell, too, a bad string gives one line and no traceback.
        """
        result = subprocess.run(
            [sys.executable, "-m", "txendpoints", "relay", "tx-tcp6:x", "tcp:h:1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr,
            "txendpoints relay: error: "
            "LISTEN: tx-tcp6: port 'x' is not a number from 0 to 65535\n",
        )
        self.assertEqual(result.stdout, "")


class TwistPluginTests(SynchronousTestCase):
    """
    C{twist tx-relay} is an C{IServiceMaker} plugin.
    """

    def test_plugin(self) -> None:
        [plugin] = [p for p in getPlugins(IServiceMaker) if p.tapname == "tx-relay"]
        self.assertIsInstance(plugin.options(), Options)

    def test_makeService(self) -> None:
        options = Options()
        options.parseOptions(
            [
                "--listen",
                "tx-tcp4:0:interface=127.0.0.1",
                "--connect",
                "tcp:127.0.0.1:80",
                "--max-connections",
                "3",
                "--grace",
                "1.5",
            ]
        )
        service = makeService(options)
        assert isinstance(service, RelayService)
        self.assertEqual(service.factory.maxConnections, 3)
        self.assertEqual(service.factory.connectName, "tcp:127.0.0.1:80")
        self.assertEqual(service.listenName, "tx-tcp4:0:interface=127.0.0.1")
        self.assertEqual(service.grace, 1.5)

    def test_badString(self) -> None:
        with self.assertRaises(UsageError) as e:
            Options().parseOptions(
                ["--listen", "tx-tcp4:99999", "--connect", "tcp:h:1"]
            )
        self.assertEqual(
            str(e.exception),
            "LISTEN: tx-tcp4: port '99999' is not a number from 0 to 65535",
        )

    def test_required(self) -> None:
        with self.assertRaises(UsageError) as e:
            Options().parseOptions(["--listen", "tx-tcp4:0"])
        self.assertEqual(str(e.exception), "--connect is required")

    def test_badMaxConnections(self) -> None:
        with self.assertRaises(UsageError) as e:
            Options().parseOptions(
                ["--listen", "tx-tcp4:0", "--connect", "tcp:h:1", "--max-connections=x"]
            )
        self.assertIn("--max-connections 'x'", str(e.exception))
