"""
Tests for L{txendpoints._resolver}: resolution through C{reactor.nameResolver}.
"""

from __future__ import annotations

import socket

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import CancelledError
from twisted.internet.interfaces import IHostnameResolver
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from txendpoints import HostClientEndpoint, _hosts
from txendpoints._resolver import SystemResolver, isDefaultResolver, resolve
from txendpoints.testing import FakeResolver

from ._gaifakes import FakeGetaddrinfo, GAINetwork, realPool


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


def _hostsFile(case: SynchronousTestCase, text: str) -> str:
    path = case.mktemp()
    with open(path, "w") as f:
        f.write(text)
    return path


class SystemResolverTests(SynchronousTestCase):
    """
    With Twisted's default resolver, a name the hosts file lists and the
    localhost names cause no lookup at all (issue 17, fault 3); lookups of
    one name and family share one job; a cancelled queued lookup is
    dropped.
    """

    def setUp(self) -> None:
        self.hosts = _hostsFile(self, "127.0.0.1 localhost\n192.0.2.7 v4only.test\n")
        self.patch(_hosts, "HOSTS_PATH", self.hosts)
        self.patch(_hosts, "hasLoopback", lambda literal: True)
        self.gai = FakeGetaddrinfo({"dual.test": ["2001:db8::1", "192.0.2.1"]})
        self.reactor = GAINetwork(self.gai)

    def test_isDefault(self) -> None:
        self.assertTrue(isDefaultResolver(self.reactor.nameResolver))
        self.assertFalse(isDefaultResolver(FakeResolver(self.reactor, {})))
        self.assertTrue(
            verifyObject(
                IHostnameResolver, SystemResolver(FakeResolver(self.reactor, {}))
            )
        )

    def test_hostsFileAnswersBothFamilies(self) -> None:
        """
        A name the hosts file lists for IPv4 only has no IPv6 address, and
        no query asks for one.
        """
        v6 = resolve(self.reactor, "v4only.test", 80, (6,))
        v4 = resolve(self.reactor, "v4only.test", 80, (4,))
        self.assertEqual(self.successResultOf(v6), [])
        self.assertEqual(
            self.successResultOf(v4), [IPv4Address("TCP", "192.0.2.7", 80)]
        )
        self.assertEqual(self.gai.calls, [])

    def test_localhostWithoutQuery(self) -> None:
        """
        C{localhost} and C{*.localhost} are loopback, even when the hosts
        file has no C{::1}, and no query is made.
        """
        for name in ["localhost", "app.localhost"]:
            self.assertEqual(
                self.successResultOf(resolve(self.reactor, name, 80, (6,))),
                [IPv6Address("TCP", "::1", 80)],
            )
            self.assertEqual(
                self.successResultOf(resolve(self.reactor, name, 80, (4,))),
                [IPv4Address("TCP", "127.0.0.1", 80)],
            )
        self.assertEqual(self.gai.calls, [])

    def test_localhostWithoutIPv6(self) -> None:
        """
        On a host without IPv6, localhost is 127.0.0.1 only.
        """
        self.patch(_hosts, "hasLoopback", lambda literal: ":" not in literal)
        self.assertEqual(
            self.successResultOf(resolve(self.reactor, "localhost", 80)),
            [IPv4Address("TCP", "127.0.0.1", 80)],
        )
        self.assertEqual(self.gai.calls, [])

    def test_otherNamesAsked(self) -> None:
        self.assertEqual(
            self.successResultOf(resolve(self.reactor, "dual.test", 443, (6,))),
            [IPv6Address("TCP", "2001:db8::1", 443)],
        )
        self.assertEqual(
            self.successResultOf(resolve(self.reactor, "dual.test", 80)),
            [
                IPv6Address("TCP", "2001:db8::1", 80),
                IPv4Address("TCP", "192.0.2.1", 80),
            ],
        )
        self.assertEqual(
            self.gai.calls,
            [("dual.test", socket.AF_INET6), ("dual.test", socket.AF_UNSPEC)],
        )

    def test_userResolverAsked(self) -> None:
        """
        A resolver the user installed is asked, even for localhost.
        """
        fake = FakeResolver(self.reactor, {"localhost": ["192.0.2.99"]})
        self.reactor.installNameResolver(fake)
        self.assertEqual(
            self.successResultOf(resolve(self.reactor, "localhost", 80, (4,))),
            [IPv4Address("TCP", "192.0.2.99", 80)],
        )
        self.assertEqual(len(fake.resolutions), 1)

    def test_sharedAndQueued(self) -> None:
        """
        Lookups of a name and family under way are shared; at most C{lanes}
        run at once per family; a cancelled queued lookup never runs.
        """
        inner = FakeResolver(
            self.reactor,
            {"a.test": ["192.0.2.1"]},
            {"a.test": 1.0, "b.test": 1.0, "c.test": 1.0},
        )
        system = SystemResolver(inner, lanes=1, hostsPath=self.hosts)
        self.reactor.installNameResolver(system)
        first = resolve(self.reactor, "a.test", 80, (4,))
        second = resolve(self.reactor, "A.test", 81, (4,))
        queued = resolve(self.reactor, "b.test", 80, (4,))
        other = resolve(self.reactor, "c.test", 80, (6,))
        self.assertEqual([r.name for r in inner.resolutions], ["a.test", "c.test"])
        queued.cancel()
        self.failureResultOf(queued, CancelledError)
        self.reactor.advance(1.0)
        self.assertEqual(
            self.successResultOf(first), [IPv4Address("TCP", "192.0.2.1", 80)]
        )
        self.assertEqual(
            self.successResultOf(second), [IPv4Address("TCP", "192.0.2.1", 81)]
        )
        self.assertEqual(self.successResultOf(other), [])
        self.assertEqual([r.name for r in inner.resolutions], ["a.test", "c.test"])


class HangingLookupTests(SynchronousTestCase):
    """
    Lookups of one family that hang in Twisted's default resolver's threads
    do not starve the other family's (issue 17, fault 2).
    """

    def test_fiftyConnectsWithHangingAAAA(self) -> None:
        """
        Fifty concurrent C{tx-host} connects whose AAAA lookups hang all
        connect over IPv4 within the resolution delay plus the attempt's
        own time, on the reactor's clock.
        """
        self.patch(_hosts, "HOSTS_PATH", _hostsFile(self, ""))
        names = {f"host{i}.test": [f"192.0.2.{i + 1}"] for i in range(50)}
        gai = FakeGetaddrinfo(names, hang=(socket.AF_INET6,))
        pool = realPool(10)
        self.addCleanup(pool.stop)
        self.addCleanup(gai.release)
        network = GAINetwork(
            gai, pool, outcomes={a[0]: ("accept", 0.01) for a in names.values()}
        )
        results = [
            HostClientEndpoint(network, name, 80).connect(Factory.forProtocol(Protocol))
            for name in names
        ]
        # Each A answer comes back from a thread; the AAAA ones never do.
        network.deliver(50)
        network.advance(0.05)
        network.advance(0.01)
        for d in results:
            self.assertIsInstance(self.successResultOf(d), Protocol)
        self.assertAlmostEqual(network.seconds(), 0.06)
        self.assertEqual(len(network.attempts), 50)
