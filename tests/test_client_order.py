"""
Tests for L{txendpoints._client._order}: sorting and interleaving the
addresses of a race.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import (
    EndpointStringError,
    HostClientEndpoint,
    clientFromString,
    describe,
)
from txendpoints._client._order import interleave
from txendpoints.testing import FakeResolver, FixedSourceAddresses, SimulatedNetwork

V6A = IPv6Address("TCP", "2001:db8::1", 80)
V6B = IPv6Address("TCP", "2001:db8::2", 80)
V6C = IPv6Address("TCP", "2001:db8::3", 80)
V4A = IPv4Address("TCP", "192.0.2.1", 80)
V4B = IPv4Address("TCP", "192.0.2.2", 80)
V4C = IPv4Address("TCP", "192.0.2.3", 80)


class InterleaveTests(SynchronousTestCase):
    """
    L{interleave} alternates the families from the first one given.
    """

    def test_interleave(self) -> None:
        self.assertEqual(
            interleave([V4A, V4B, V4C, V6A, V6B], IPv6Address),
            [V6A, V4A, V6B, V4B, V4C],
        )
        self.assertEqual(interleave([V6A, V6B, V4A], IPv4Address), [V4A, V6A, V6B])
        self.assertEqual(interleave([V4B, V4A], IPv6Address), [V4B, V4A])

    def test_familyCount(self) -> None:
        """
        A First Address Family Count of two puts two of the first family
        before the other's first; then they alternate, as asyncio's
        C{interleave=2} does.
        """
        addresses: list[IPv4Address | IPv6Address] = [V6A, V6B, V6C, V4A, V4B, V4C]
        self.assertEqual(
            interleave(addresses, IPv6Address, 2), [V6A, V6B, V4A, V6C, V4B, V4C]
        )
        self.assertEqual(
            interleave(addresses, IPv4Address, 3), [V4A, V4B, V4C, V6A, V6B, V6C]
        )
        self.assertEqual(interleave([V4A, V6A], IPv6Address, 5), [V6A, V4A])


def attemptsOf(
    answers: dict[str, list[str]],
    string: str = "tx-host:example.org:80",
    sources: dict[str, str | None] | None = None,
    delays: dict[Any, float] | None = None,
    until: float = 5.0,
) -> list[tuple[float, str]]:
    """
    Connect with C{string} on a simulated network where nothing answers,
    and give the attempts made by C{until}.
    """
    network = SimulatedNetwork(sources=FixedSourceAddresses(sources))
    network.installNameResolver(FakeResolver(network, answers, delays))
    d = clientFromString(network, string).connect(Factory.forProtocol(Protocol))
    network.runUntil(d, until)
    d.addErrback(lambda reason: None)
    d.cancel()
    return [(round(t, 3), host) for t, host in network.attempts]


class AttemptOrderTests(SynchronousTestCase):
    """
    Through C{tx-host}: RFC 6724 decides which family starts, late
    addresses are sorted into the untried ones, and C{familyCount} gives
    the first family a head start.
    """

    def test_sortingPicksTheFirstFamily(self) -> None:
        """
        A 6to4 address sorts after IPv4, so IPv4 starts even though IPv6
        is preferred.
        """
        self.assertEqual(
            attemptsOf({"example.org": ["2002:c000:201::1", "192.0.2.1"]}),
            [(0.0, "192.0.2.1"), (0.25, "2002:c000:201::1")],
        )

    def test_unreachableFamilyLast(self) -> None:
        """
        With no IPv6 route (no source for it), IPv4 starts.
        """
        self.assertEqual(
            attemptsOf(
                {"example.org": ["2001:db8::1", "192.0.2.1"]}, sources={"::/0": None}
            ),
            [(0.0, "192.0.2.1"), (0.25, "2001:db8::1")],
        )

    def test_lateAddressesSorted(self) -> None:
        """
        IPv4 addresses that come while IPv6 ones are tried are sorted into
        the untried addresses by RFC 6724 (loopback's smaller scope first),
        not appended in the resolver's order.
        """
        self.assertEqual(
            attemptsOf(
                {
                    "example.org": [
                        "2001:db8::1",
                        "2001:db8::2",
                        "192.0.2.1",
                        "127.0.0.1",
                    ]
                },
                delays={("example.org", 4): 0.1},
            ),
            [
                (0.0, "2001:db8::1"),
                (0.25, "127.0.0.1"),
                (0.5, "2001:db8::2"),
                (0.75, "192.0.2.1"),
            ],
        )

    def test_familyCountString(self) -> None:
        answers = {
            "example.org": [
                "2001:db8::1",
                "2001:db8::2",
                "2001:db8::3",
                "192.0.2.1",
                "192.0.2.2",
            ]
        }
        self.assertEqual(
            [h for _, h in attemptsOf(answers, "tx-host:example.org:80:familyCount=2")],
            ["2001:db8::1", "2001:db8::2", "192.0.2.1", "2001:db8::3", "192.0.2.2"],
        )

    def test_familyCountMidRace(self) -> None:
        """
        The first family's count holds when the other family's addresses
        arrive after the first attempt.
        """
        answers = {"example.org": ["2001:db8::1", "2001:db8::2", "192.0.2.1"]}
        self.assertEqual(
            [
                h
                for _, h in attemptsOf(
                    answers,
                    "tx-host:example.org:80:familyCount=2",
                    delays={("example.org", 4): 0.1},
                )
            ],
            ["2001:db8::1", "2001:db8::2", "192.0.2.1"],
        )

    def test_familyCountClass(self) -> None:
        network = SimulatedNetwork()
        endpoint = HostClientEndpoint(network, "example.org", 80, familyCount=3)
        self.assertEqual(
            repr(endpoint), "<HostClientEndpoint tx-host:example.org:80:familyCount=3>"
        )
        self.assertEqual(describe(endpoint), "tx-host:example.org:80:familyCount=3")
        for bad in [0, -1, 1.5, True]:
            self.assertRaises(
                ValueError,
                HostClientEndpoint,
                network,
                "example.org",
                80,
                familyCount=bad,
            )

    def test_familyCountRejected(self) -> None:
        for bad in ["0", "x", "-1"]:
            error = self.assertRaises(
                EndpointStringError,
                clientFromString,
                SimulatedNetwork(),
                f"tx-host:example.org:80:familyCount={bad}",
            )
            self.assertIn("familyCount", str(error))
            self.assertIn(bad, str(error))
