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

from txendpoints._relay._service import Options, RelayService, makeService
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
            "tx-tcp4: port 'http' is not a number from 0 to 65535\n",
        )

    def test_misspeltOption(self) -> None:
        status, err = self.relay("tx-tcp4:0:backlg=5", "tcp:127.0.0.1:80")
        self.assertEqual(status, 2)
        self.assertIn("option 'backlg' is unknown; did you mean 'backlog'?", err)

    def test_unknownPrefix(self) -> None:
        status, err = self.relay("tx-tcp4:0", "nope:127.0.0.1:80")
        self.assertEqual(status, 2)
        self.assertEqual(
            err,
            "txendpoints relay: error: bad endpoint string 'nope:127.0.0.1:80': "
            "Unknown endpoint type: 'nope'\n",
        )

    def test_twistedTypeError(self) -> None:
        """
        Twisted's own parsers report a missing port as a L{TypeError}; it is
        reported as a bad string all the same.
        """
        status, err = self.relay("tx-tcp4:0", "tcp:127.0.0.1")
        self.assertEqual(status, 2)
        self.assertIn("bad endpoint string 'tcp:127.0.0.1'", err)

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
            "tx-tcp6: port 'x' is not a number from 0 to 65535\n",
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
            str(e.exception), "tx-tcp4: port '99999' is not a number from 0 to 65535"
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
