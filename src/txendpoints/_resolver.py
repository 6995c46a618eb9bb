"""
Name resolution through C{reactor.nameResolver}, restricted to the families
asked for; shared by listeners and clients, so it sits below both.

When that resolver is Twisted's default, L{GAIResolver} (C{getaddrinfo} in
the reactor's thread pool), it is asked through a L{SystemResolver}, which
answers as the system's own single lookup would without asking DNS more
than it does, and keeps hanging lookups of one family from starving the
other's.  A resolver the user installed is always asked as it is.

It may import only L{txendpoints._hosts}, L{txendpoints._net}, Twisted and
the standard library.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

# Private, and imported here only: Twisted's default resolver has no public
# name, and recognizing it is what lets us answer hosts-file names and
# localhost without DNS and queue its lookups per family (issue 17), and
# lets a listen before the reactor runs resolve at once (_server._startup).
from twisted.internet._resolver import GAIResolver
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IReactorPluggableNameResolver,
    IResolutionReceiver,
)
from zope.interface import implementer

from . import _hosts
from ._hosts import LocalNames
from ._net import ADDRESS_CLASSES, IPAddress, addressFamily

__all__ = ["GAIResolver", "SystemResolver", "isDefaultResolver", "resolve"]


def isDefaultResolver(resolver: object) -> bool:
    """
    @param resolver: A reactor's C{nameResolver}.
    @return: Whether it is Twisted's default, C{getaddrinfo} in a thread.
    """
    return type(resolver) is GAIResolver


@implementer(IHostResolution)
class _Waiter:
    """
    One caller's resolution, answered by a shared lookup.
    """

    def __init__(
        self, owner: SystemResolver, name: str, receiver: IResolutionReceiver, port: int
    ) -> None:
        self.name = name
        self.receiver = receiver
        self.port = port
        self.cancelled = False
        self._owner = owner
        self.job: _Job | None = None

    def cancel(self) -> None:
        """
        Stop the resolution: nothing more reaches the receiver, and a lookup
        nobody waits for any more is dropped if it has not started.
        """
        if self.cancelled:
            return
        self.cancelled = True
        if self.job is not None:
            self._owner._abandon(self.job, self)


class _Job:
    """
    One lookup of one name in one family (C{0} for both), shared by every
    caller that asks while it is queued or running.
    """

    def __init__(self, name: str, family: int) -> None:
        self.name = name
        self.family = family
        self.waiters: list[_Waiter] = []
        self.started = False
        self.addresses: list[IPAddress] = []


@implementer(IResolutionReceiver)
class _JobReceiver:
    def __init__(self, owner: SystemResolver, job: _Job) -> None:
        self._owner = owner
        self._job = job

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        if isinstance(address, IPv4Address | IPv6Address):
            self._job.addresses.append(address)

    def resolutionComplete(self) -> None:
        self._owner._finished(self._job)


@implementer(IHostnameResolver)
class SystemResolver:
    """
    Twisted's default resolver, asked as the system's own single lookup
    would be, without starving one family's lookups with the other's.

      - A name the hosts file lists is answered from it for both families
        with no lookup, as glibc's single C{getaddrinfo} stops at the hosts
        file; asked one family at a time, C{getaddrinfo} for the family the
        file lacks would ask DNS.
      - C{localhost} and C{*.localhost} are the loopback addresses the
        host has (C{::1} only if IPv6 is enabled), with no lookup at all
        (RFC 6761 section 6.3).
      - Lookups of the same name and family while one is under way share
        it, and each family runs at most C{lanes} lookups at once in the
        thread pool; the rest wait here, where a cancelled one is dropped.
        A thread running C{getaddrinfo} cannot be stopped, so AAAA lookups
        that hang can take up at most their own lane and never hold the A
        lookups of later connects back.
    """

    def __init__(
        self, resolver: IHostnameResolver, lanes: int = 5, hostsPath: str | None = None
    ) -> None:
        """
        @param resolver: The resolver that does the lookups.
        @param lanes: How many lookups of one family may run at once; half
            the thread pool leaves the other half for the other family.
        @param hostsPath: The hosts(5) file the system reads; by default
            L{HOSTS_PATH<txendpoints._hosts.HOSTS_PATH>}.
        """
        self._resolver = resolver
        self._lanes = max(1, lanes)
        self._local = LocalNames(_hosts.HOSTS_PATH if hostsPath is None else hostsPath)
        self._jobs: dict[tuple[str, int], _Job] = {}
        self._running: dict[int, int] = {4: 0, 6: 0}
        self._queued: dict[int, deque[_Job]] = {4: deque(), 6: deque()}

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """
        See L{IHostnameResolver.resolveHostName}.
        """
        families = [
            f
            for f, cls in ADDRESS_CLASSES.items()
            if addressTypes is None or cls in addressTypes
        ]
        waiter = _Waiter(self, hostName, resolutionReceiver, portNumber)
        resolutionReceiver.resolutionBegan(waiter)
        local = self._local.lookup(hostName)
        if local is not None:
            for literal in local:
                version = addressFamily(literal)
                if version in families:
                    resolutionReceiver.addressResolved(
                        ADDRESS_CLASSES[version]("TCP", literal, portNumber)
                    )
            resolutionReceiver.resolutionComplete()
            return waiter
        family = families[0] if len(families) == 1 else 0
        key = (hostName.lower(), family)
        job = self._jobs.get(key)
        if job is None:
            job = self._jobs[key] = _Job(hostName, family)
            self._queued[family or 4].append(job)
        job.waiters.append(waiter)
        waiter.job = job
        self._startQueued(family or 4)
        return waiter

    def _startQueued(self, lane: int) -> None:
        queued = self._queued[lane]
        while queued and self._running[lane] < self._lanes:
            job = queued.popleft()
            job.started = True
            self._running[lane] += 1
            types = (
                tuple(ADDRESS_CLASSES.values())
                if job.family == 0
                else (ADDRESS_CLASSES[job.family],)
            )
            try:
                self._resolver.resolveHostName(
                    _JobReceiver(self, job),
                    job.name,
                    0,
                    addressTypes=types,
                    transportSemantics="TCP",
                )
            except Exception:
                # As GAIResolver does for a lookup that fails: no address.
                self._finished(job)

    def _abandon(self, job: _Job, waiter: _Waiter) -> None:
        if waiter in job.waiters:
            job.waiters.remove(waiter)
        if not job.waiters and not job.started:
            self._queued[job.family or 4].remove(job)
            del self._jobs[(job.name.lower(), job.family)]

    def _finished(self, job: _Job) -> None:
        key = (job.name.lower(), job.family)
        if self._jobs.get(key) is job:
            del self._jobs[key]
        lane = job.family or 4
        self._running[lane] -= 1
        waiters, job.waiters = job.waiters, []
        for waiter in waiters:
            waiter.job = None
            for address in job.addresses:
                waiter.receiver.addressResolved(_withPort(address, waiter.port))
            waiter.receiver.resolutionComplete()
        self._startQueued(lane)


def _withPort(address: IPAddress, port: int) -> IPAddress:
    if isinstance(address, IPv6Address):
        return IPv6Address("TCP", address.host, port, address.flowInfo, address.scopeID)
    return IPv4Address("TCP", address.host, port)


#: Our resolver in front of each of Twisted's default ones.
_system: weakref.WeakKeyDictionary[Any, SystemResolver] = weakref.WeakKeyDictionary()


def _resolverOf(reactor: IReactorPluggableNameResolver) -> IHostnameResolver:
    resolver = reactor.nameResolver
    if not isDefaultResolver(resolver):
        return resolver
    system = _system.get(resolver)
    if system is None:
        getThreadPool = getattr(reactor, "getThreadPool", None)
        size = getThreadPool().max if getThreadPool is not None else 10
        system = _system[resolver] = SystemResolver(resolver, lanes=size // 2)
    return system


@implementer(IResolutionReceiver)
class _Collector:
    """
    Gather resolved addresses and fire a L{Deferred} with them on completion.
    """

    def __init__(self, wanted: tuple[type[IPAddress], ...]) -> None:
        self._wanted = wanted
        self.addresses: list[IPAddress] = []
        self.resolution: IHostResolution | None = None
        self.deferred: Deferred[list[IPAddress]] = Deferred(self._cancel)
        self._done = False

    def _cancel(self, d: Deferred[list[IPAddress]]) -> None:
        self._done = True
        if self.resolution is not None:
            try:
                self.resolution.cancel()
            except NotImplementedError:
                # A resolver that cannot stop its lookup; its late answer
                # is ignored because _done is set.
                pass

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        self.resolution = resolutionInProgress

    def addressResolved(self, address: IAddress) -> None:
        if not self._done and isinstance(address, self._wanted):
            if address not in self.addresses:
                self.addresses.append(address)

    def resolutionComplete(self) -> None:
        if not self._done:
            self._done = True
            self.deferred.callback(self.addresses)


def resolve(
    reactor: IReactorPluggableNameResolver,
    host: str,
    port: int,
    families: Sequence[int] = (4, 6),
) -> Deferred[list[IPAddress]]:
    """
    Resolve C{host} through C{reactor.nameResolver} (through a
    L{SystemResolver} if that is Twisted's default).

    @param reactor: The reactor whose C{nameResolver} to use.
    @param host: The host name.
    @param port: The port number the addresses should carry.
    @param families: The families wanted: C{(4,)}, C{(6,)} or both.
    @return: A cancellable L{Deferred} firing with the addresses of the wanted
        families in resolver order, without duplicates (possibly empty).
        Cancelling it cancels the resolution where the resolver allows.
    """
    types = tuple(ADDRESS_CLASSES[family] for family in families)
    collector = _Collector(types)
    _resolverOf(reactor).resolveHostName(
        collector, host, port, addressTypes=types, transportSemantics="TCP"
    )
    return collector.deferred
