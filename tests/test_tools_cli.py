"""
Tests for the C{txendpoints} command, run for real in a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from .test_tools_catalog import SOCKET_NAMES

_SCRIPT = Path(sys.executable).with_name("txendpoints")


def run(*args: str, script: bool = False) -> subprocess.CompletedProcess[str]:
    """
    Run the command with C{python -m txendpoints}, or the console script.
    """
    command = [str(_SCRIPT)] if script else [sys.executable, "-m", "txendpoints"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )


class VersionTests(SynchronousTestCase):
    def test_version(self) -> None:
        """
        C{--version} names the versions a bug report needs.
        """
        from importlib.metadata import version

        result = run("--version")
        self.assertEqual(
            (result.returncode, result.stdout, result.stderr),
            (
                0,
                f"txendpoints {version('txendpoints')} (Twisted "
                f"{version('Twisted')}, Python {sys.version.split()[0]})\n",
                "",
            ),
        )


class CheckTests(SynchronousTestCase):
    """
    C{txendpoints check} parses without listening and says what it would do.
    """

    def test_good(self) -> None:
        result = run("check", "tx-tcp6:port=8080:interface=\\:\\:1")
        self.assertEqual(
            (result.returncode, result.stdout, result.stderr),
            (
                0,
                "tx-tcp6:8080:interface=\\:\\:1\n"
                "listen on [::1]:8080 (TCP, IPv6, backlog 50)\n",
                "",
            ),
        )

    def test_resolve(self) -> None:
        """
        C{--client --resolve} resolves for real (C{localhost} needs no
        query) and lists the attempts in the order they would start.
        """
        result = run("check", "--client", "--resolve", "tx-host:localhost:80")
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        lines = result.stdout.splitlines()
        self.assertEqual(lines[2], "attempts if none answers:")
        self.assertEqual(
            [line.split()[:2] for line in lines[3:]], [["1", "+0.00s"], ["2", "+0.25s"]]
        )
        self.assertEqual(
            {line.split()[2] for line in lines[3:]}, {"[::1]:80", "127.0.0.1:80"}
        )
        self.assertIn("RFC 6724", result.stdout)

    def test_resolveNeedsClient(self) -> None:
        result = run("check", "--resolve", "tx-tcp4:80")
        self.assertEqual(
            (result.returncode, result.stdout, result.stderr),
            (2, "", "txendpoints check: --resolve needs --client\n"),
        )

    def test_resolveNotOurs(self) -> None:
        result = run("check", "--client", "--resolve", "tcp:127.0.0.1:80")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--resolve works with tx-tcp4", result.stderr)

    def test_consoleScript(self) -> None:
        if not _SCRIPT.exists():
            self.skipTest(f"no console script at {_SCRIPT}")
        result = run("check", "tx-tcp4:0:backlog=5", script=True)
        self.assertEqual(
            (result.returncode, result.stdout),
            (
                0,
                "tx-tcp4:0:backlog=5\nlisten on 0.0.0.0:0 (TCP, IPv4, "
                "a free port chosen by the system, backlog 5)\n",
            ),
        )

    def test_bad(self) -> None:
        result = run("check", "tx-tcp6:http")
        self.assertEqual(
            (result.returncode, result.stdout, result.stderr),
            (
                2,
                "",
                "txendpoints check: tx-tcp6: port 'http' is not a number from "
                "0 to 65535\n",
            ),
        )

    def test_clientStringWithoutClient(self) -> None:
        """
        A client string checked as a server string gets the hint to add
        C{--client}, and the server string for its address.
        """
        result = run("check", "tx-tcp4:127.0.0.1:8080")
        self.assertEqual((result.returncode, result.stdout), (2, ""))
        self.assertTrue(
            result.stderr.endswith(
                "; it is a client string (to connect to 127.0.0.1 port 8080); "
                "to listen there, write tx-tcp4:8080:interface=127.0.0.1 (a "
                "server string takes the address as interface=); or add "
                "--client to check it as one\n"
            ),
            result.stderr,
        )
        result = run("check", "--client", "tx-tcp4:8080")
        self.assertTrue(
            result.stderr.endswith(
                "it is a server string (one to listen on); or leave out "
                "--client to check it as one\n"
            ),
            result.stderr,
        )

    def test_badTwisted(self) -> None:
        """
        Twisted's parsers fail with their own messages, still without a
        traceback.
        """
        result = run("check", "--client", "tcp:example.org:http")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertEqual(
            result.stderr,
            "txendpoints check: 'tcp:example.org:http' was rejected by its "
            "parser: ValueError: invalid literal for int() with base 10: 'http'\n",
        )

    def test_twisted(self) -> None:
        result = run("check", "--client", "TCP:example.org:80:timeout=5")
        self.assertEqual(
            (result.returncode, result.stdout),
            (
                0,
                "tcp:example.org:80:timeout=5\n"
                "connect to example.org:80 (TCP, IPv4, timeout 5s)\n",
            ),
        )

    def test_unknownFallback(self) -> None:
        result = run("check", "stdio:")
        self.assertEqual(
            (result.returncode, result.stdout),
            (0, "stdio:\nlisten with twisted.internet.endpoints.StandardIOEndpoint\n"),
        )

    def test_clientOnlyServer(self) -> None:
        """
        A prefix that exists only for servers (Twisted's C{systemd}) is an
        unknown client type.
        """
        result = run("check", "--client", "systemd:domain=INET:index=0")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown client endpoint type 'systemd'", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_usage(self) -> None:
        result = run("check")
        self.assertEqual(result.returncode, 2)
        self.assertIn("STRING", result.stderr)


class ListTests(SynchronousTestCase):
    """
    C{txendpoints list} shows every installed endpoint type.
    """

    def test_closedPipe(self) -> None:
        """
        A reader that has gone away (C{txendpoints list | head -1}) ends the
        command with status 1 and no C{BrokenPipeError} traceback.
        """
        for command in ([str(_SCRIPT)], [sys.executable, "-m", "txendpoints"]):
            readEnd, writeEnd = os.pipe()
            # No reader at all: every write fails, so the test does not
            # depend on how much fits in the pipe's buffer.
            os.close(readEnd)
            try:
                result = subprocess.run(
                    [*command, "list"],
                    stdout=writeEnd,
                    stderr=subprocess.PIPE,
                    text=True,
                    timeout=60,
                )
            finally:
                os.close(writeEnd)
            self.assertEqual(result.returncode, 1)
            self.assertNotIn("Traceback", result.stderr)
            self.assertNotIn("BrokenPipe", result.stderr)

    def test_text(self) -> None:
        result = run("list")
        self.assertEqual(result.returncode, 0)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0], "Server endpoint types:")
        self.assertIn("Client endpoint types:", lines)
        ours = next(line for line in lines if line.split()[:1] == ["tx-tcp6"])
        self.assertIn("TCP listener on IPv6  [txendpoints ", ours)
        options = lines[lines.index(ours) + 1].split()
        self.assertEqual(
            options,
            [
                "options:",
                "port",
                "(required),",
                "backlog=50,",
                "interface=\\:\\:,",
                "ipv6Only,",
                "reusePort=no,",
                *(f"{name}," for name in SOCKET_NAMES[:-1]),
                SOCKET_NAMES[-1],
            ],
        )
        for prefix in ("tcp", "tcp6", "unix", "stdio", "ssl", "tls"):
            self.assertTrue(any(line.split()[:1] == [prefix] for line in lines), prefix)

    def test_json(self) -> None:
        result = run("list", "--json")
        self.assertEqual(result.returncode, 0)
        found = {(t["prefix"], t["direction"]): t for t in json.loads(result.stdout)}
        ours = found[("tx-tcp4", "server")]
        self.assertEqual(ours["description"], "TCP listener on IPv4")
        self.assertEqual(ours["source"], "twisted.plugins.txendpoints_endpoints")
        self.assertEqual(ours["collision"], [])
        self.assertEqual(
            ours["options"][1],
            {
                "name": "backlog",
                "default": "50",
                "required": False,
                "positional": False,
                "type": "integer 1-65535",
                "doc": "Size of the listen queue.",
            },
        )
        self.assertTrue(found[("tcp", "client")]["distribution"].startswith("Twisted "))
        self.assertEqual(found[("tcp", "client")]["source"], "built-in")

    def test_direction(self) -> None:
        client = run("list", "--client", "--json")
        self.assertEqual(
            {t["direction"] for t in json.loads(client.stdout)}, {"client"}
        )
        server = run("list", "--server")
        self.assertNotIn("Client endpoint types:", server.stdout)
        both = run("list", "--server", "--client")
        self.assertEqual(both.returncode, 2)


class MainTests(SynchronousTestCase):
    """
    With no command, usage goes to standard error.
    """

    def test_noCommand(self) -> None:
        result = run()
        self.assertEqual(result.returncode, 2)
        self.assertIn("list", result.stderr)
        self.assertIn("check", result.stderr)


class ListCollisionTests(SynchronousTestCase):
    """
    C{txendpoints list} flags a prefix that two installed plugins claim.
    """

    def test_flagged(self) -> None:
        from tests.test_strings_lookup import FakeParser
        from txendpoints import rebuildPrefixTable
        from txendpoints._strings import _lookup
        from txendpoints._tools import _catalog, _cli

        first, second = FakeParser("dup", "first"), FakeParser("dup", "second")
        names = {id(first): "alpha-endpoints 1.0", id(second): "beta-endpoints 2.1"}
        self.patch(
            _lookup,
            "getPlugins",
            lambda interface: [first, second] if "Server" in interface.__name__ else [],
        )
        self.patch(_catalog, "distributionOf", lambda plugin: names[id(plugin)])
        rebuildPrefixTable()
        self.addCleanup(rebuildPrefixTable)
        output = io.StringIO()
        self.patch(sys, "stdout", output)
        self.assertEqual(_cli.main(["list", "--server"]), 0)
        lines = output.getvalue().splitlines()
        at = lines.index(
            next(line for line in lines if "[alpha-endpoints 1.0]" in line)
        )
        self.assertEqual(
            [line.strip() for line in lines[at : at + 6]],
            [
                "dup   A server parser that records what it was given  "
                "[alpha-endpoints 1.0]",
                "options: unknown",
                "COLLISION (in use): prefix also claimed by beta-endpoints 2.1",
                "dup   A server parser that records what it was given  "
                "[beta-endpoints 2.1]",
                "options: unknown",
                "COLLISION (NOT in use): prefix also claimed by alpha-endpoints 1.0",
            ],
        )
