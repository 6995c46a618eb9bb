"""
Tests for L{txendpoints._tools._plan}: the one-line plans and canonical
strings of C{txendpoints check}, in process.
"""

from __future__ import annotations

from twisted.internet import endpoints
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import clientFromString, serverFromString
from txendpoints._tools._plan import canonical, plan


class PlanTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def test_ourServer(self) -> None:
        endpoint = serverFromString(self.reactor, "tx-tcp6:0:interface=\\:\\:1")
        self.assertEqual(
            plan(endpoint, "server"),
            "listen on [::1]:0 (TCP, IPv6, a free port chosen by the system, "
            "backlog 50)",
        )

    def test_everyInterface(self) -> None:
        endpoint = serverFromString(self.reactor, "tx-host:80:reusePort=yes")
        self.assertEqual(
            plan(endpoint, "server"),
            "listen on *:80 (TCP, IPv4 and IPv6, backlog 50, reusePort yes)",
        )

    def test_ourClient(self) -> None:
        endpoint = clientFromString(self.reactor, "tx-tcp4:example.org:80:timeout=5")
        self.assertEqual(
            plan(endpoint, "client"),
            "connect to example.org:80 (TCP, IPv4, timeout 5s, attemptDelay 0.25s)",
        )

    def test_attemptDelayClamped(self) -> None:
        """
        An attempt delay outside RFC 8305's bounds is shown with the delay
        used instead; one inside them, or 0, as it is.
        """
        shown = {
            text: plan(
                clientFromString(self.reactor, f"tx-host:h:443:attemptDelay={text}"),
                "client",
            )
            for text in ("5", "0.001", "2", "0.01", "0")
        }
        self.assertIn(
            "attemptDelay 5s, clamped to 2s (RFC 8305 sec. 5), resolutionDelay",
            shown["5"],
        )
        self.assertIn(
            "attemptDelay 0.001s, clamped to 0.01s (RFC 8305 sec. 5)", shown["0.001"]
        )
        for text in ("2", "0.01", "0"):
            self.assertIn(f"attemptDelay {text}s, resolutionDelay", shown[text])

    def test_stdio(self) -> None:
        endpoint = serverFromString(self.reactor, "tx-stdio")
        self.assertIn("stdin 0, stdout 1", plan(endpoint, "server"))

    def test_twisted(self) -> None:
        server = endpoints.TCP4ServerEndpoint(self.reactor, 80, 7, "127.0.0.1")
        self.assertEqual(
            plan(server, "server"), "listen on 127.0.0.1:80 (TCP, IPv4, backlog 7)"
        )
        client = endpoints.TCP6ClientEndpoint(self.reactor, b"::1", 80, timeout=3)
        self.assertEqual(
            plan(client, "client"), "connect to [::1]:80 (TCP, IPv6, timeout 3s)"
        )

    def test_other(self) -> None:
        endpoint = endpoints.UNIXServerEndpoint(self.reactor, "/tmp/x")
        self.assertEqual(
            plan(endpoint, "server"),
            "listen with twisted.internet.endpoints.UNIXServerEndpoint",
        )


class CanonicalTests(SynchronousTestCase):
    def test_ours(self) -> None:
        endpoint = serverFromString(MemoryReactorClock(), "TX-TCP4:port=80:backlog=50")
        self.assertEqual(canonical(endpoint, ["TX-TCP4"], {"port": "80"}), "tx-tcp4:80")

    def test_theirs(self) -> None:
        endpoint = endpoints.TCP4ServerEndpoint(MemoryReactorClock(), 80)
        self.assertEqual(
            canonical(endpoint, ["TCP", "80"], {"interface": "::1"}),
            "tcp:80:interface=\\:\\:1",
        )
