"""
Tests for L{txendpoints._client._nat64}: RFC 6052 address synthesis and
RFC 7050 prefix discovery, and NAT64 through C{tx-host} (RFC 8305
section 7) with a fake resolver and a fixed route table.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from twisted.internet.error import TimeoutError
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import HostClientEndpoint, clientFromString
from txendpoints._client._nat64 import (
    discoverPrefixes,
    extract,
    prefixesFrom,
    synthesize,
)
from txendpoints.testing import FakeResolver, FixedSourceAddresses, SimulatedNetwork

#: RFC 6052 section 2.4: 192.0.2.33 behind each prefix length.
RFC6052: list[tuple[str, str]] = [
    ("2001:db8::/32", "2001:db8:c000:221::"),
    ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
    ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
    ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
    ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
    ("2001:db8:122:344::/96", "2001:db8:122:344::c000:221"),
    ("64:ff9b::/96", "64:ff9b::c000:221"),
]

V4 = ipaddress.IPv4Address("192.0.2.33")


class SynthesisTests(SynchronousTestCase):
    """
    L{synthesize} and L{extract} follow RFC 6052's own examples.
    """

    def test_examples(self) -> None:
        for prefix, expected in RFC6052:
            network = ipaddress.IPv6Network(prefix)
            got = synthesize(network, V4)
            self.assertEqual(got, ipaddress.IPv6Address(expected), prefix)
            self.assertEqual(extract(got, network.prefixlen), V4, prefix)

    def test_prefixesFrom(self) -> None:
        """
        Each AAAA answer for ipv4only.arpa reveals its prefix, at whichever
        length embeds a well-known address.
        """
        answers = [
            str(synthesize(ipaddress.IPv6Network(p), ipaddress.IPv4Address(w)))
            for p, _ in RFC6052
            for w in ("192.0.0.170", "192.0.0.171")
        ]
        self.assertEqual(
            prefixesFrom(answers), [ipaddress.IPv6Network(p) for p, _ in RFC6052]
        )
        self.assertEqual(prefixesFrom(["2001:db8::1", "64:ff9b::c000:201"]), [])


def network(
    answers: dict[str, list[str]],
    sources: Mapping[str, str | None] | None = None,
    delays: Mapping[str | tuple[str, int], float] | None = None,
) -> tuple[SimulatedNetwork, FakeResolver]:
    net = SimulatedNetwork(
        {"64:ff9b::c000:201": ("accept", 0.01)},
        FixedSourceAddresses({"0.0.0.0/0": None} if sources is None else sources),
    )
    resolver = FakeResolver(
        net,
        {"ipv4only.arpa": ["64:ff9b::c000:aa", "64:ff9b::c000:ab"], **answers},
        delays,
    )
    net.installNameResolver(resolver)
    return net, resolver


class NAT64Tests(SynchronousTestCase):
    """
    With no IPv4 route but an IPv6 one, an IPv4-only name or an IPv4
    literal is reached through the network's NAT64 prefix.
    """

    def connect(self, net: SimulatedNetwork, string: str) -> Any:
        d = clientFromString(net, string).connect(Factory.forProtocol(Protocol))
        net.runUntil(d)
        return self.successResultOf(d)

    def test_name(self) -> None:
        net, _ = network({"v4only.example": ["192.0.2.1"]})
        protocol = self.connect(net, "tx-host:v4only.example:80")
        self.assertEqual(protocol.transport.getPeer().host, "64:ff9b::c000:201")
        self.assertEqual([h for _, h in net.attempts], ["64:ff9b::c000:201"])

    def test_literalAndOnce(self) -> None:
        """
        An IPv4 literal too; the prefix is looked up once per reactor.
        """
        net, resolver = network({})
        self.connect(net, "tx-host:192.0.2.1:80")
        HostClientEndpoint(net, "192.0.2.1", 80).connect(Factory.forProtocol(Protocol))
        net.runUntil(discoverPrefixes(net))
        self.assertEqual([r.name for r in resolver.resolutions], ["ipv4only.arpa"])
        self.assertEqual(
            [h for _, h in net.attempts], ["64:ff9b::c000:201", "64:ff9b::c000:201"]
        )

    def test_notNeeded(self) -> None:
        """
        With an IPv4 route, or without an IPv6 one, nothing is synthesized
        and the prefix is not looked up.
        """
        for sources in [{}, {"0.0.0.0/0": None, "::/0": None}]:
            net, resolver = network({"v4only.example": ["192.0.2.1"]}, sources)
            d = clientFromString(net, "tx-host:v4only.example:80").connect(
                Factory.forProtocol(Protocol)
            )
            net.runUntil(d, 1)
            d.cancel()
            self.failureResultOf(d)
            self.assertEqual([h for _, h in net.attempts], ["192.0.2.1"])
            self.assertEqual(
                [r.name for r in resolver.resolutions], ["v4only.example"] * 2
            )

    def test_noPrefix(self) -> None:
        """
        A network without NAT64 (no AAAA for ipv4only.arpa) leaves the IPv4
        addresses to fail as they would.
        """
        net = SimulatedNetwork(sources=FixedSourceAddresses({"0.0.0.0/0": None}))
        net.installNameResolver(FakeResolver(net, {}))
        d = HostClientEndpoint(net, "192.0.2.1", 80, timeout=3).connect(
            Factory.forProtocol(Protocol)
        )
        net.runUntil(d)
        self.failureResultOf(d, TimeoutError)
        self.assertEqual([h for _, h in net.attempts], ["192.0.2.1"])

    def test_slowDiscoveryDeadline(self) -> None:
        """
        A literal's connect that waits for the prefix lookup still ends at
        its timeout.
        """
        net, _ = network({}, delays={"ipv4only.arpa": 60.0})
        d = HostClientEndpoint(net, "192.0.2.1", 80, timeout=5).connect(
            Factory.forProtocol(Protocol)
        )
        net.runUntil(d)
        self.failureResultOf(d, TimeoutError)
        self.assertEqual(net.seconds(), 5)
