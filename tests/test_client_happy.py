"""
Tests for L{txendpoints._client._happy}: the policy C{tx-host} adds to a
race.  Its effects through endpoints are tested in
L{tests.test_client_order} and L{tests.test_client_nat64}.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._client._happy import HappyEyeballs
from txendpoints._client._order import AttemptOrder
from txendpoints._client._race import StaggeredAttempts
from txendpoints._net import IPAddress
from txendpoints.testing import FixedSourceAddresses, SimulatedNetwork


class HappyEyeballsTests(SynchronousTestCase):
    def test_order(self) -> None:
        happy = HappyEyeballs(SimulatedNetwork(), (6, 4), True, 2)
        order = happy.order()
        self.assertIsInstance(order, AttemptOrder)
        v6: list[IPAddress] = [IPv6Address("TCP", f"2001:db8::{i}", 80) for i in (1, 2)]
        v4: list[IPAddress] = [IPv4Address("TCP", "192.0.2.1", 80)]
        self.assertEqual(order([], v4 + v6), [*v6, *v4])

    def test_outranked(self) -> None:
        happy = HappyEyeballs(MemoryReactorClock(), (6, 4), True, 1)
        self.assertTrue(happy.outranked([IPv6Address("TCP", "2002:c000:201::1", 80)]))
        self.assertFalse(happy.outranked([IPv6Address("TCP", "2001:db8::1", 80)]))

    def test_noNAT64(self) -> None:
        """
        No synthesis for an IPv4-only endpoint, with sources unknown, for
        an IPv6 literal, or for a reachable IPv4 one.
        """
        v4: list[IPAddress] = [IPv4Address("TCP", "192.0.2.1", 80)]
        noV4 = SimulatedNetwork(sources=FixedSourceAddresses({"0.0.0.0/0": None}))
        self.assertIsNone(HappyEyeballs(noV4, (4,), True, 1).nat64(v4))
        self.assertIsNone(
            HappyEyeballs(MemoryReactorClock(), (6, 4), True, 1).nat64(v4)
        )
        happy = HappyEyeballs(SimulatedNetwork(), (6, 4), True, 1)
        race = StaggeredAttempts(SimulatedNetwork(), None, "h", 80, v4[0], 0.25, 10)  # type: ignore[arg-type]
        self.assertFalse(happy.literal(race, "2001:db8::1", 80, lambda: None))
        self.assertFalse(happy.literal(race, "192.0.2.1", 80, lambda: None))
        race.deferred.cancel()
        self.failureResultOf(race.deferred)
