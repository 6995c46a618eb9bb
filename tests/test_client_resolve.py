"""
Tests for L{txendpoints._client._resolve}: RFC 8305 section 3 resolution on
its own, feeding a sink that records what it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import (
    ConnectAttemptsError,
    HostClientEndpoint,
    _hosts,
    clientFromString,
)
from txendpoints._client._resolve import resolveHappily
from txendpoints._net import IPAddress
from txendpoints.testing import FakeResolver

from ._gaifakes import FakeGetaddrinfo, GAINetwork
from .test_client_race import refuse

BOTH = ["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"]


class Sink:
    """
    Records what a resolution feeds it, as C{(event, hosts)} pairs.
    """

    over = False

    def __init__(self) -> None:
        self.events: list[tuple[str, list[str]]] = []
        self.failures: list[Failure] = []
        self.cleanups: list[Callable[[], object]] = []
        self.noAddresses: Callable[[], Exception] | None = None

    def add(self, addresses: Sequence[IPAddress]) -> None:
        self.events.append(("add", [a.host for a in addresses]))

    def finish(
        self, noAddresses: Callable[[], Exception], addresses: Sequence[IPAddress] = ()
    ) -> None:
        self.noAddresses = noAddresses
        self.events.append(("finish", [a.host for a in addresses]))

    def fail(self, reason: Failure) -> None:
        self.failures.append(reason)

    def onEnd(self, cleanup: Callable[[], object]) -> None:
        self.cleanups.append(cleanup)

    def end(self) -> None:
        self.over = True
        for cleanup in self.cleanups:
            cleanup()


class ResolveHappilyTests(SynchronousTestCase):
    """
    L{resolveHappily} asks each family at once and releases the answers
    as RFC 8305 section 3 says.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.sink = Sink()

    def resolve(
        self,
        delays: dict[Any, float],
        answers: list[str] = BOTH,
        families: tuple[int, ...] = (6, 4),
        delay: float = 0.05,
        outranked: Callable[[list[IPAddress]], bool] = lambda addresses: False,
        nat64: Callable[[list[IPAddress]], Deferred[list[IPAddress]] | None] = (
            lambda addresses: None
        ),
    ) -> FakeResolver:
        resolver = FakeResolver(self.reactor, {"h.example": answers}, delays)
        self.reactor.installNameResolver(resolver)
        resolveHappily(
            self.reactor,
            self.sink,
            "h.example",
            80,
            families,
            delay,
            lambda: DNSLookupError("none"),
            outranked,
            nat64,
        )
        return resolver

    def test_outrankedPreferredWaits(self) -> None:
        """
        A preferred answer that would sort after the other family waits for
        it as long as the resolution delay, like the other family's would.
        """
        self.resolve({("h.example", 4): 0.2}, outranked=lambda addresses: True)
        self.assertEqual(self.sink.events, [])
        self.reactor.advance(0.05)
        self.assertEqual(self.sink.events, [("add", ["2001:db8::1", "2001:db8::2"])])
        self.reactor.advance(0.15)
        self.assertEqual(self.sink.events[1:], [("finish", ["192.0.2.1", "192.0.2.2"])])

    def test_outrankedReleasedWithOther(self) -> None:
        self.resolve({("h.example", 4): 0.01}, outranked=lambda addresses: True)
        self.reactor.advance(0.01)
        self.assertEqual(
            self.sink.events,
            [("finish", ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"])],
        )
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_nat64Last(self) -> None:
        """
        Once both families have answered, the NAT64 hook sees every address
        and what it synthesizes comes with the last.
        """
        seen: list[list[str]] = []
        later: Deferred[list[IPAddress]] = Deferred()

        def nat64(addresses: list[IPAddress]) -> Deferred[list[IPAddress]]:
            seen.append([a.host for a in addresses])
            return later

        self.resolve({}, answers=["192.0.2.1"], nat64=nat64)
        self.assertEqual((seen, self.sink.events), ([["192.0.2.1"]], []))
        later.callback([IPv6Address("TCP", "64:ff9b::c000:201", 80)])
        self.assertEqual(
            self.sink.events, [("finish", ["192.0.2.1", "64:ff9b::c000:201"])]
        )

    def test_oneQueryPerFamily(self) -> None:
        resolver = self.resolve({"h.example": 1})
        self.assertEqual(
            [(r.name, r.addressTypes) for r in resolver.resolutions],
            [("h.example", (IPv6Address,)), ("h.example", (IPv4Address,))],
        )
        self.assertEqual(self.sink.events, [])

    def test_preferredFirst(self) -> None:
        """
        The preferred family's answer is added at once; the other's, coming
        later, is the last.
        """
        self.resolve({("h.example", 4): 0.2})
        self.assertEqual(self.sink.events, [("add", ["2001:db8::1", "2001:db8::2"])])
        self.reactor.advance(0.2)
        self.assertEqual(self.sink.events[1:], [("finish", ["192.0.2.1", "192.0.2.2"])])
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_otherWithinResolutionDelay(self) -> None:
        """
        The other family's answer waits for the preferred family for the
        resolution delay; if it comes, both are released together,
        preferred first.
        """
        self.resolve({("h.example", 6): 0.03, ("h.example", 4): 0.01})
        self.reactor.advance(0.01)
        self.assertEqual(self.sink.events, [])
        self.reactor.advance(0.02)
        self.assertEqual(
            self.sink.events,
            [("finish", ["2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"])],
        )
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_otherAfterResolutionDelay(self) -> None:
        self.resolve({("h.example", 6): 0.2})
        self.reactor.advance(0.049)
        self.assertEqual(self.sink.events, [])
        self.reactor.advance(0.001)
        self.assertEqual(self.sink.events, [("add", ["192.0.2.1", "192.0.2.2"])])
        self.reactor.advance(0.15)
        self.assertEqual(
            self.sink.events[1:], [("finish", ["2001:db8::1", "2001:db8::2"])]
        )

    def test_noResolutionDelay(self) -> None:
        self.resolve({("h.example", 6): 0.2}, delay=0)
        self.assertEqual(self.sink.events, [("add", ["192.0.2.1", "192.0.2.2"])])
        self.reactor.advance(0.2)
        self.assertEqual(
            self.sink.events[1:], [("finish", ["2001:db8::1", "2001:db8::2"])]
        )

    def test_otherEmptyIsNotHeld(self) -> None:
        """
        An empty answer from the other family starts no resolution delay.
        """
        self.resolve({("h.example", 6): 0.2}, answers=["2001:db8::1"])
        self.assertEqual(self.sink.events, [])
        self.assertEqual(len(self.reactor.getDelayedCalls()), 1)
        self.reactor.advance(0.2)
        self.assertEqual(self.sink.events, [("finish", ["2001:db8::1"])])

    def test_nothing(self) -> None:
        self.resolve({}, answers=[])
        self.assertEqual(self.sink.events, [("finish", [])])
        assert self.sink.noAddresses is not None
        self.assertEqual(str(self.sink.noAddresses()), "DNS lookup failed: none.")

    def test_oneFamily(self) -> None:
        resolver = self.resolve({}, families=(4,))
        self.assertEqual(len(resolver.resolutions), 1)
        self.assertEqual(self.sink.events, [("finish", ["192.0.2.1", "192.0.2.2"])])

    def test_endStopsQueriesAndTimer(self) -> None:
        resolver = self.resolve({("h.example", 6): 0.2, ("h.example", 4): 0.01})
        self.reactor.advance(0.02)
        self.sink.end()
        self.assertEqual([r.cancelled for r in resolver.resolutions], [True, False])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(self.sink.events, [])


class HalfBroken(FakeResolver):
    """
    A L{FakeResolver} that raises for the families in C{broken}.
    """

    def __init__(self, clock: Any, answers: Any, broken: tuple[type, ...]) -> None:
        super().__init__(clock, answers)
        self.broken = broken

    def resolveHostName(  # type: ignore[override]
        self, receiver: Any, hostName: str, *a: Any, **kw: Any
    ) -> Any:
        types = tuple(kw.get("addressTypes") or ())
        if any(t in self.broken for t in types):
            raise DNSLookupError(f"broken for {types[0].__name__}")
        return super().resolveHostName(receiver, hostName, *a, **kw)


class FailedQueryTests(SynchronousTestCase):
    """
    RFC 8305 section 3: a query that fails is a negative answer for its
    family; the other family goes on.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.sink = Sink()

    def resolve(self, broken: tuple[type, ...]) -> None:
        self.reactor.installNameResolver(
            HalfBroken(self.reactor, {"h.example": BOTH}, broken)
        )
        resolveHappily(
            self.reactor,
            self.sink,
            "h.example",
            80,
            (6, 4),
            0.05,
            lambda: DNSLookupError("none"),
        )

    def test_preferredFamilyRaises(self) -> None:
        self.resolve((IPv6Address,))
        self.assertEqual(self.sink.failures, [])
        self.assertEqual(self.sink.events, [("finish", ["192.0.2.1", "192.0.2.2"])])

    def test_otherFamilyRaises(self) -> None:
        self.resolve((IPv4Address,))
        self.assertEqual(self.sink.failures, [])
        self.assertEqual(
            self.sink.events, [("add", ["2001:db8::1", "2001:db8::2"]), ("finish", [])]
        )

    def test_everyFamilyRaises(self) -> None:
        """
        Only when every family failed is there no address; the error is
        the resolver's.
        """
        self.resolve((IPv6Address, IPv4Address))
        self.assertEqual(self.sink.events, [("finish", [])])
        assert self.sink.noAddresses is not None
        self.assertEqual(
            str(self.sink.noAddresses()), "DNS lookup failed: broken for IPv6Address."
        )

    def test_connectGoesOn(self) -> None:
        """
        Through C{HostClientEndpoint}: an AAAA query that raises leaves the
        IPv4 attempts to connect, and when they fail the error is theirs.
        """
        self.reactor.installNameResolver(
            HalfBroken(self.reactor, {"h.example": BOTH}, (IPv6Address,))
        )
        d = HostClientEndpoint(self.reactor, "h.example", 80).connect(
            Factory.forProtocol(Protocol)
        )
        self.assertEqual([c[0] for c in self.reactor.tcpClients], ["192.0.2.1"])
        refuse(self.reactor, 0)
        refuse(self.reactor, 1)
        error = self.failureResultOf(d, ConnectAttemptsError).value
        self.assertEqual(
            [a.host for a, f in error.failures], ["192.0.2.1", "192.0.2.2"]
        )
        self.assertEqual(self.reactor.getDelayedCalls(), [])


class ScopeIDTests(SynchronousTestCase):
    """
    A resolver that gives an IPv6 zone only as C{scopeID}.
    """

    def test_zoneKept(self) -> None:
        reactor = MemoryReactorClock()

        class Scoped(FakeResolver):
            def resolveHostName(  # type: ignore[override]
                self, receiver: Any, hostName: str, *a: Any, **kw: Any
            ) -> Any:
                receiver.resolutionBegan(None)
                if IPv6Address in (kw.get("addressTypes") or ()):
                    receiver.addressResolved(IPv6Address("TCP", "fe80::1", 80, 0, 3))
                receiver.resolutionComplete()

        reactor.installNameResolver(Scoped(reactor, {}))
        d = HostClientEndpoint(reactor, "h.example", 80).connect(
            Factory.forProtocol(Protocol)
        )
        self.assertEqual([c[0] for c in reactor.tcpClients], ["fe80::1%3"])
        d.cancel()
        self.failureResultOf(d)


class DefaultResolverTests(SynchronousTestCase):
    """
    Through Twisted's default resolver, C{tx-host} sends no query the
    system's own lookup would not (issue 17, fault 3).
    """

    def setUp(self) -> None:
        hosts = self.mktemp()
        with open(hosts, "w") as f:
            f.write("192.0.2.7 v4only.test\n127.0.0.1 localhost\n")
        self.patch(_hosts, "HOSTS_PATH", hosts)
        self.patch(_hosts, "hasLoopback", lambda literal: True)
        self.gai = FakeGetaddrinfo({})
        self.network = GAINetwork(
            self.gai, outcomes={"192.0.2.7": ("accept", 0.01), "::1": ("refuse", 0.0)}
        )

    def test_hostsFileName(self) -> None:
        endpoint = clientFromString(self.network, "tx-host:v4only.test:80")
        d = endpoint.connect(Factory.forProtocol(Protocol))
        self.network.runUntil(d)
        self.successResultOf(d)
        self.assertEqual(self.gai.calls, [])
        self.assertEqual([host for _, host in self.network.attempts], ["192.0.2.7"])

    def test_localhostWithoutIPv6InHostsFile(self) -> None:
        endpoint = clientFromString(self.network, "tx-host:localhost:80")
        d = endpoint.connect(Factory.forProtocol(Protocol))
        self.network.runUntil(d)
        self.failureResultOf(d)
        self.assertEqual(self.gai.calls, [])
        self.assertEqual(
            sorted(host for _, host in self.network.attempts), ["127.0.0.1", "::1"]
        )
