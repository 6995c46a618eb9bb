"""
Tests for L{txendpoints._resolver}: resolution through C{reactor.nameResolver}.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import CancelledError
from twisted.internet.interfaces import IHostnameResolver
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from txendpoints._resolver import resolve
from txendpoints.testing import FakeResolver


class ResolveTests(SynchronousTestCase):
    """
    L{resolve} goes through C{reactor.nameResolver} and filters by family.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.resolver = FakeResolver(
            self.reactor,
            {"both": ["::1", "127.0.0.1", "::1", "10.0.0.1"], "v4": ["127.0.0.1"]},
            {("slow", 6): 1.0, "slow": 2.0},
        )
        self.reactor.installNameResolver(self.resolver)

    def test_provides(self) -> None:
        self.assertTrue(verifyObject(IHostnameResolver, self.resolver))

    def test_families(self) -> None:
        self.assertEqual(
            self.successResultOf(resolve(self.reactor, "both", 80, (4,))),
            [IPv4Address("TCP", "127.0.0.1", 80), IPv4Address("TCP", "10.0.0.1", 80)],
        )
        self.assertEqual(
            self.successResultOf(resolve(self.reactor, "both", 80, (6,))),
            [IPv6Address("TCP", "::1", 80)],
        )
        self.assertEqual(
            len(self.successResultOf(resolve(self.reactor, "both", 80))), 3
        )
        self.assertEqual(self.successResultOf(resolve(self.reactor, "v4", 1, (6,))), [])
        self.assertEqual(self.resolver.resolutions[0].addressTypes, (IPv4Address,))

    def test_delays(self) -> None:
        d6 = resolve(self.reactor, "slow", 80, (6,))
        d4 = resolve(self.reactor, "slow", 80, (4,))
        self.assertNoResult(d6)
        self.reactor.advance(1.0)
        self.assertEqual(self.successResultOf(d6), [])
        self.assertNoResult(d4)
        self.reactor.advance(1.0)
        self.assertEqual(self.successResultOf(d4), [])

    def test_cancel(self) -> None:
        d = resolve(self.reactor, "slow", 80)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertTrue(self.resolver.resolutions[0].cancelled)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_cancelUncancellableResolver(self) -> None:
        """
        A resolver whose C{cancel} raises C{NotImplementedError} (Twisted's
        default) still lets the Deferred be cancelled; its late answer is
        ignored.
        """
        receivers = []

        @implementer(IHostnameResolver)
        class Stubborn:
            def resolveHostName(
                self,
                receiver,
                name,
                port=0,
                addressTypes=None,
                transportSemantics="TCP",
            ):
                class Resolution:
                    def cancel(self) -> None:
                        raise NotImplementedError()

                receiver.resolutionBegan(Resolution())
                receivers.append(receiver)

        self.reactor.installNameResolver(Stubborn())
        d = resolve(self.reactor, "x", 80)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        receivers[0].addressResolved(IPv4Address("TCP", "127.0.0.1", 80))
        receivers[0].resolutionComplete()
