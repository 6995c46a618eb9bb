"""
Tests for L{txendpoints._tools._plan}: the one-line plans and canonical
strings of C{txendpoints check}, in process.
"""

from __future__ import annotations

from twisted.internet import endpoints
from twisted.internet.error import DNSLookupError
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import clientFromString, serverFromString
from txendpoints._tools._plan import canonical, plan, resolvedPlan
from txendpoints.testing import FakeResolver, FixedSourceAddresses, SimulatedNetwork


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


class ResolvedPlanTests(SynchronousTestCase):
    """
    L{resolvedPlan} resolves and lists the addresses in the order the race
    would try them, with when each would start and what placed it.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def plan(self, string: str, network: SimulatedNetwork | None = None) -> list[str]:
        network = network or SimulatedNetwork()
        if not isinstance(network.nameResolver, FakeResolver):
            network.installNameResolver(
                FakeResolver(
                    network,
                    {
                        "example.org": [
                            "2002:c000:201::1",
                            "2001:db8::1",
                            "192.0.2.1",
                            "192.0.2.2",
                        ],
                        "ipv4only.arpa": ["64:ff9b::c000:aa"],
                    },
                )
            )
        endpoint = clientFromString(network, string)
        lines: list[str] = self.successResultOf(resolvedPlan(network, endpoint))
        return lines

    def test_host(self) -> None:
        self.assertEqual(
            self.plan("tx-host:example.org:443"),
            [
                "  1   +0.00s  [2001:db8::1]:443       IPv6  first by RFC 6724",
                "  2   +0.25s  192.0.2.1:443           IPv4  RFC 6724 rule 6 "
                "(prefer higher precedence)",
                "  3   +0.50s  [2002:c000:201::1]:443  IPv6  RFC 6724 rule 6 "
                "(prefer higher precedence); moved by interleaving (familyCount 1)",
                "  4   +0.75s  192.0.2.2:443           IPv4  RFC 6724 rule 10 "
                "(otherwise keep the resolver's order); moved by interleaving "
                "(familyCount 1)",
            ],
        )

    def test_oneFamily(self) -> None:
        self.assertEqual(
            self.plan("tx-tcp4:example.org:443:attemptDelay=0"),
            [
                "  1   +0.00s  192.0.2.1:443  IPv4  resolver order",
                "  2  after 1  192.0.2.2:443  IPv4  resolver order",
            ],
        )

    def test_nat64(self) -> None:
        network = SimulatedNetwork(sources=FixedSourceAddresses({"0.0.0.0/0": None}))
        self.assertEqual(
            self.plan("tx-host:192.0.2.1:80", network),
            [
                "  1   +0.00s  [64:ff9b::c000:201]:80  IPv6  first by RFC 6724; NAT64",
                "  2   +0.25s  192.0.2.1:80            IPv4  RFC 6724 rule 1 "
                "(avoid unusable destinations)",
            ],
        )

    def test_noAddress(self) -> None:
        network = SimulatedNetwork()
        network.installNameResolver(FakeResolver(network, {}))
        endpoint = clientFromString(network, "tx-host:nowhere.example:80")
        self.failureResultOf(resolvedPlan(network, endpoint), DNSLookupError)

    def test_notOurs(self) -> None:
        endpoint = clientFromString(self.reactor, "tcp:example.org:80")
        self.assertRaises(ValueError, resolvedPlan, self.reactor, endpoint)
