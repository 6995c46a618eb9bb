"""
Tests for L{txendpoints._client._sorting}: RFC 6724 destination address
selection, table-driven with the RFC's own examples (section 10.2).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from txendpoints._client._sorting import (
    GLOBAL,
    LINK_LOCAL,
    SITE_LOCAL,
    ISourceAddresses,
    KernelSourceAddresses,
    commonPrefixLength,
    explainOrder,
    outranked,
    scopeOf,
    sortDestinations,
    sourcesOf,
)
from txendpoints._net import IPAddress
from txendpoints.testing import SimulatedNetwork


@implementer(ISourceAddresses)
class Sources:
    """
    The source the system picks for each destination; missing: none.
    """

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)

    def sourceFor(self, destination: str) -> str | None:
        return self.table.get(destination)


def address(literal: str) -> IPAddress:
    if ":" in literal:
        return IPv6Address("TCP", literal, 80)
    return IPv4Address("TCP", literal, 80)


#: RFC 6724 section 10.2: (destinations in either order, Source(D) of each
#: as the RFC's result gives it, the result, the rule it illustrates).
#: The examples for rules 3 (deprecated sources) and 4 (home addresses) are
#: left out: nothing an application can ask tells it either.
EXAMPLES: list[tuple[list[str], dict[str, str], list[str], int]] = [
    (
        ["2001:db8:1::1", "198.51.100.121"],
        {"2001:db8:1::1": "2001:db8:1::2", "198.51.100.121": "169.254.13.78"},
        ["2001:db8:1::1", "198.51.100.121"],
        2,
    ),
    (
        ["2001:db8:1::1", "198.51.100.121"],
        {"2001:db8:1::1": "fe80::1", "198.51.100.121": "198.51.100.117"},
        ["198.51.100.121", "2001:db8:1::1"],
        2,
    ),
    (
        ["2001:db8:1::1", "10.1.2.3"],
        {"2001:db8:1::1": "2001:db8:1::2", "10.1.2.3": "10.1.2.4"},
        ["2001:db8:1::1", "10.1.2.3"],
        6,
    ),
    (
        ["2001:db8:1::1", "fe80::1"],
        {"2001:db8:1::1": "2001:db8:1::2", "fe80::1": "fe80::2"},
        ["fe80::1", "2001:db8:1::1"],
        8,
    ),
    (
        ["2001:db8:1::1", "2001:db8:3ffe::1"],
        {"2001:db8:1::1": "2001:db8:1::2", "2001:db8:3ffe::1": "2001:db8:3f44::2"},
        ["2001:db8:1::1", "2001:db8:3ffe::1"],
        9,
    ),
    (
        ["2002:c633:6401::1", "2001:db8:1::1"],
        {
            "2002:c633:6401::1": "2002:c633:6401::2",
            "2001:db8:1::1": "2002:c633:6401::2",
        },
        ["2002:c633:6401::1", "2001:db8:1::1"],
        5,
    ),
    (
        ["2002:c633:6401::1", "2001:db8:1::1"],
        {"2002:c633:6401::1": "2002:c633:6401::2", "2001:db8:1::1": "2001:db8:1::2"},
        ["2001:db8:1::1", "2002:c633:6401::1"],
        6,
    ),
]


class RFCExampleTests(SynchronousTestCase):
    """
    The destination address selection examples of RFC 6724 section 10.2
    give the RFC's result from either starting order, decided by the rule
    each example illustrates.
    """

    def test_examples(self) -> None:
        for given, sources, expected, rule in EXAMPLES:
            for start in (given, given[::-1]):
                got = sortDestinations([address(a) for a in start], Sources(sources))
                self.assertEqual([a.host for a in got], expected, (start, sources))
                explained = explainOrder([address(a) for a in start], Sources(sources))
                self.assertEqual(explained[1][1], rule, (start, sources))
                self.assertIsNone(explained[0][1])


class RuleTests(SynchronousTestCase):
    """
    The rules one at a time, and the classifications they use.
    """

    def test_unusableLast(self) -> None:
        """
        Rule 1: a destination without a source goes after every other.
        """
        got = sortDestinations(
            [address("2001:db8::1"), address("192.0.2.1")],
            Sources({"192.0.2.1": "192.0.2.100"}),
        )
        self.assertEqual([a.host for a in got], ["192.0.2.1", "2001:db8::1"])

    def test_transitionLast(self) -> None:
        """
        IPv4 goes before IPv4-compatible, 6to4 and Teredo IPv6 addresses,
        as the default policy table's precedences say.
        """
        destinations = ["2001:0:53aa:64c::1", "2002:c000:201::1", "::3", "192.0.2.1"]
        same = {d: d for d in destinations}
        got = sortDestinations([address(a) for a in destinations], Sources(same))
        self.assertEqual(
            [a.host for a in got],
            ["192.0.2.1", "2002:c000:201::1", "2001:0:53aa:64c::1", "::3"],
        )

    def test_preferIPv4Table(self) -> None:
        """
        preferIPv6=False sorts with RFC 6724 section 10.3's table.
        """
        destinations = [address("2001:db8::1"), address("192.0.2.1")]
        got = sortDestinations(destinations, None, preferIPv6=False)
        self.assertEqual([a.host for a in got], ["192.0.2.1", "2001:db8::1"])
        self.assertEqual(sortDestinations(destinations, None), destinations)

    def test_resolverOrderKept(self) -> None:
        """
        Rule 10, and rule 9 not applied to IPv4 (a 10/8 source does not
        favour 10/8-like destinations, as Go found).
        """
        destinations = ["54.83.193.112", "10.0.0.1", "23.23.172.185"]
        got = sortDestinations(
            [address(a) for a in destinations],
            Sources({d: "10.2.3.4" for d in destinations}),
        )
        self.assertEqual([a.host for a in got], destinations)

    def test_unknownSources(self) -> None:
        """
        With no source information, the rules that need it are skipped.
        """
        got = sortDestinations([address("192.0.2.1"), address("::1")], None)
        self.assertEqual([a.host for a in got], ["::1", "192.0.2.1"])

    def test_scopes(self) -> None:
        for literal, scope in [
            ("127.0.0.1", LINK_LOCAL),
            ("169.254.1.2", LINK_LOCAL),
            ("10.0.0.1", GLOBAL),
            ("::1", LINK_LOCAL),
            ("fe80::1", LINK_LOCAL),
            ("fec0::1", SITE_LOCAL),
            ("ff05::1", SITE_LOCAL),
            ("2001:db8::1", GLOBAL),
        ]:
            mapped = int(
                ipaddress.IPv6Address(
                    literal if ":" in literal else "::ffff:" + literal
                )
            )
            self.assertEqual(scopeOf(mapped), scope, literal)

    def test_commonPrefixLength(self) -> None:
        def ip(text: str) -> int:
            return int(ipaddress.IPv6Address(text))

        self.assertEqual(commonPrefixLength(ip("fe80::1"), ip("fe80::2")), 64)
        self.assertEqual(commonPrefixLength(ip("fe81::1"), ip("fe80::2")), 15)


class SourcesTests(SynchronousTestCase):
    """
    Where the source addresses come from.
    """

    def test_kernel(self) -> None:
        """
        The kernel gives loopback a loopback source.
        """
        kernel = KernelSourceAddresses()
        self.assertTrue(verifyObject(ISourceAddresses, kernel))
        self.assertEqual(kernel.sourceFor("127.0.0.1"), "127.0.0.1")
        self.assertIsNone(kernel.sourceFor("0.0.0.0:bad"))

    def test_sourcesOf(self) -> None:
        from twisted.internet import reactor

        self.assertIsInstance(sourcesOf(reactor), KernelSourceAddresses)
        self.assertIsNone(sourcesOf(MemoryReactorClock()))
        network = SimulatedNetwork()
        self.assertIs(sourcesOf(network), network)


class OutrankedTests(SynchronousTestCase):
    """
    L{outranked} says when a family's answer should wait for the other's.
    """

    def test_outranked(self) -> None:
        every = Sources({"192.0.2.1": "192.0.2.9", "2001:db8::5": "2001:db8::9"})
        self.assertTrue(outranked([address("2002:c000:201::1"), address("::3")], None))
        self.assertFalse(
            outranked([address("2002:c000:201::1"), address("2001:db8::5")], None)
        )
        self.assertFalse(outranked([address("2001:db8::5")], None))
        self.assertFalse(outranked([], None))
        # No IPv6 source: unreachable, so after any reachable IPv4.
        self.assertTrue(
            outranked([address("2001:db8::5")], Sources({"192.0.2.1": "192.0.2.9"}))
        )
        self.assertFalse(outranked([address("2001:db8::5")], every))
        self.assertTrue(outranked([address("192.0.2.5")], None))
        self.assertFalse(outranked([address("192.0.2.5")], None, preferIPv6=False))


class KernelCacheTests(SynchronousTestCase):
    """
    With a clock, the kernel's answers are remembered for a second of it.
    """

    def test_remembered(self) -> None:
        clock = MemoryReactorClock()
        kernel = KernelSourceAddresses(clock)
        probes: list[str] = []

        def probe(destination: str) -> str:
            probes.append(destination)
            return "192.0.2.100"

        self.patch(kernel, "_probe", probe)
        self.assertEqual(kernel.sourceFor("192.0.2.1"), "192.0.2.100")
        clock.advance(0.5)
        kernel.sourceFor("192.0.2.1")
        self.assertEqual(probes, ["192.0.2.1"])
        clock.advance(0.5)
        kernel.sourceFor("192.0.2.1")
        self.assertEqual(probes, ["192.0.2.1"] * 2)
        self.patch(KernelSourceAddresses, "LIMIT", 2)
        kernel.sourceFor("192.0.2.2")
        kernel.sourceFor("192.0.2.3")
        kernel.sourceFor("192.0.2.1")
        self.assertEqual(len(probes), 5)

    def test_perReactor(self) -> None:
        from twisted.internet import reactor

        self.assertIs(sourcesOf(reactor), sourcesOf(reactor))
