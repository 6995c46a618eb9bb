"""
Name resolution through C{reactor.nameResolver}, restricted to the families
asked for; shared by listeners and clients, so it sits below both.

It may import only L{txendpoints._net}, Twisted and the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IHostResolution,
    IReactorPluggableNameResolver,
    IResolutionReceiver,
)
from zope.interface import implementer

from ._net import ADDRESS_CLASSES, IPAddress


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
                # Twisted's default resolver cannot stop its thread; its late
                # answer is ignored because _done is set.
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
    Resolve C{host} through C{reactor.nameResolver}.

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
    reactor.nameResolver.resolveHostName(
        collector, host, port, addressTypes=types, transportSemantics="TCP"
    )
    return collector.deferred
