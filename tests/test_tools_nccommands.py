"""
Tests for L{txendpoints._tools._nccommands}: the C{connect} and C{listen}
commands' parsing and messages (their bytes are tested for real in
test_real_netcat).
"""

from __future__ import annotations

import io
import sys

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import ListeningPorts
from txendpoints._stdio._transport import PipeAddress
from txendpoints._tools._cli import main
from txendpoints._tools._nccommands import whereListening

from .test_strings_clients import FakePort


class WhereListeningTests(SynchronousTestCase):
    def test_eachAddress(self) -> None:
        """
        One line per address, each ending in the client string for it.
        """
        ports = ListeningPorts(
            [
                FakePort(IPv4Address("TCP", "0.0.0.0", 80)),
                FakePort(IPv6Address("TCP", "::", 80)),
            ]
        )
        self.assertEqual(
            whereListening(ports),
            [
                "listening on 0.0.0.0:80; connect with tx-tcp4:127.0.0.1:80",
                "listening on [::]:80; connect with tx-tcp6:\\:\\:1:80",
            ],
        )

    def test_noClientString(self) -> None:
        self.assertEqual(
            whereListening(FakePort(PipeAddress())), ["listening on standard I/O"]
        )


class CommandLineTests(SynchronousTestCase):
    def run_(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        self.patch(sys, "stdout", out)
        self.patch(sys, "stderr", err)
        try:
            status = main(list(args))
        except SystemExit as e:
            status = e.code  # type: ignore[assignment]
        return status, out.getvalue(), err.getvalue()

    def test_connectBadString(self) -> None:
        status, out, err = self.run_("connect", "tx-tcp4:8080")
        self.assertEqual((status, out), (2, ""))
        self.assertEqual(
            err,
            "txendpoints connect: tx-tcp4: host '8080' is neither a host name nor "
            "an IPv4 address; it is a server string (one to listen on); "
            "txendpoints listen takes one\n",
        )

    def test_listenClientString(self) -> None:
        status, _, err = self.run_("listen", "tx-tcp4:127.0.0.1:8080")
        self.assertEqual(status, 2)
        self.assertTrue(err.startswith("txendpoints listen: tx-tcp4: unexpected"))
        self.assertTrue(
            err.endswith(
                "write tx-tcp4:8080:interface=127.0.0.1 (a server string takes "
                "the address as interface=); txendpoints connect takes one\n"
            )
        )

    def test_stdioRefused(self) -> None:
        """
        Standard I/O, ours or Twisted's, is not something to copy standard
        I/O to.
        """
        for args in (
            ("connect", "tx-stdio"),
            ("listen", "TX-STDIO:"),
            ("listen", "stdio:"),
        ):
            status, _, err = self.run_(*args)
            self.assertEqual(status, 2)
            self.assertIn("is standard I/O, which", err)

    def test_otherParser(self) -> None:
        status, _, err = self.run_("connect", "tcp:nohost")
        self.assertEqual(status, 2)
        self.assertIn("'tcp:nohost' was rejected by its parser: TypeError", err)

    def test_help(self) -> None:
        status, out, _ = self.run_("connect", "--help")
        self.assertEqual(status, 0)
        self.assertIn(
            "ProxyCommand txendpoints connect tx-host:%h:%p", " ".join(out.split())
        )
        status, out, _ = self.run_("listen", "--help")
        self.assertIn("--keep", out)
