"""
Tests for L{txendpoints._client._order}: interleaving the families.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._client._order import interleave

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
