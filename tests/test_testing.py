"""
Tests for L{txendpoints.testing} and L{txendpoints._resolver}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectionRefusedError,
    NotConnectingError,
    TimeoutError,
    UserError,
)
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from txendpoints import TCP4ClientEndpoint, TCP6ClientEndpoint
from txendpoints._client._sorting import ISourceAddresses
from txendpoints._resolver import resolve
from txendpoints.testing import FakeResolver, FixedSourceAddresses, SimulatedNetwork


class FakeResolverBothFamiliesTests(SynchronousTestCase):
    """
    A query for both families waits for the slower family's delay, as
    C{getaddrinfo(AF_UNSPEC)} waits for both answers.
    """

    def test_slowerFamily(self) -> None:
        reactor = MemoryReactorClock()
        reactor.installNameResolver(
            FakeResolver(reactor, {"h": ["::1", "127.0.0.1"]}, {("h", 6): 1.0})
        )
        d4 = resolve(reactor, "h", 80, (4,))
        self.assertEqual(len(self.successResultOf(d4)), 1)
        both = resolve(reactor, "h", 80)
        reactor.advance(0.999)
        self.assertNoResult(both)
        reactor.advance(0.001)
        self.assertEqual(len(self.successResultOf(both)), 2)


class SimulatedNetworkTests(SynchronousTestCase):
    """
    L{SimulatedNetwork} scripts connection outcomes on its clock.
    """

    def test_outcomes(self) -> None:
        network = SimulatedNetwork(
            {"192.0.2.1": ("refuse", 0.5), "::1": ("accept", 0.25)}
        )
        refused: Deferred[Any] = TCP4ClientEndpoint(network, "192.0.2.1", 80).connect(
            Factory.forProtocol(Protocol)
        )
        accepted: Deferred[Any] = TCP6ClientEndpoint(network, "::1", 80).connect(
            Factory.forProtocol(Protocol)
        )
        network.runUntil(accepted)
        self.assertEqual(network.seconds(), 0.25)
        proto = self.successResultOf(accepted)
        self.assertEqual(proto.transport.getPeer(), IPv6Address("TCP", "::1", 80))
        network.runUntil(refused)
        self.failureResultOf(refused, ConnectionRefusedError)
        self.assertEqual(network.attempts, [(0, "192.0.2.1"), (0, "::1")])
        self.assertEqual(network.getDelayedCalls(), [])

    def test_silentTimesOut(self) -> None:
        network = SimulatedNetwork()
        factory = ClientFactory()
        failures: list[Failure] = []
        factory.clientConnectionFailed = (  # type: ignore[method-assign]
            lambda connector, reason: failures.append(reason)
        )
        connector = network.connectTCP("192.0.2.1", 80, factory, timeout=3)
        network.runUntil(Deferred(), limit=2)
        self.assertEqual((network.seconds(), failures), (2, []))
        network.advance(1)
        self.assertEqual(len(failures), 1)
        failures[0].trap(TimeoutError)
        self.assertEqual(connector.state, "disconnected")

    def test_stopConnectingReportsAtOnce(self) -> None:
        network = SimulatedNetwork({"192.0.2.1": ("accept", 1)})
        factory = ClientFactory()
        failures: list[Failure] = []
        factory.clientConnectionFailed = (  # type: ignore[method-assign]
            lambda connector, reason: failures.append(reason)
        )
        connector = network.connectTCP("192.0.2.1", 80, factory)
        connector.stopConnecting()
        failures[0].trap(UserError)
        self.assertTrue(connector.stoppedConnecting)
        self.assertEqual(network.getDelayedCalls(), [])
        self.assertRaises(NotConnectingError, connector.stopConnecting)


class FixedSourceAddressesTests(SynchronousTestCase):
    """
    L{FixedSourceAddresses} answers from its table, most specific entry
    first, and gives an unlisted destination itself as its source.
    """

    def test_table(self) -> None:
        sources = FixedSourceAddresses(
            {"0.0.0.0/0": None, "192.0.2.0/24": "192.0.2.100", "2001:db8::1": "fe80::1"}
        )
        self.assertTrue(verifyObject(ISourceAddresses, sources))
        self.assertIsNone(sources.sourceFor("198.51.100.1"))
        self.assertEqual(sources.sourceFor("192.0.2.7"), "192.0.2.100")
        self.assertEqual(sources.sourceFor("2001:db8::1"), "fe80::1")
        self.assertEqual(sources.sourceFor("fe80::2%eth0"), "fe80::2%eth0")

    def test_network(self) -> None:
        network = SimulatedNetwork(sources=FixedSourceAddresses({"::/0": None}))
        self.assertTrue(verifyObject(ISourceAddresses, network))
        self.assertIsNone(network.sourceFor("2001:db8::1"))
        self.assertEqual(SimulatedNetwork().sourceFor("::1"), "::1")
