"""
Name resolution through C{reactor.nameResolver}, restricted to a family.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IHostResolution,
    IReactorPluggableNameResolver,
    IResolutionReceiver,
)
from zope.interface import implementer

IPAddress = IPv4Address | IPv6Address

#: The address class of each IP version.
ADDRESS_CLASSES: dict[int, type[IPAddress]] = {4: IPv4Address, 6: IPv6Address}


def hostPort(host: str, port: int | str) -> str:
    """
    Join a host and a port the way URLs do.

    @param host: A name or an address literal.
    @param port: The port.
    @return: C{host:port}, with an IPv6 literal in brackets.
    """
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def formatAddress(address: IAddress | None) -> str:
    """
    Write an address the way people read them: C{127.0.0.1:80}, C{[::1]:80}.

    @param address: A resolved address, or a transport's host or peer.
    @return: C{host:port} for IP addresses, C{standard I/O} for the pipes
        of a standard-I/O transport, otherwise the address's C{str}.
    """
    if isinstance(address, IPv4Address | IPv6Address):
        return hostPort(address.host, address.port)
    if type(address).__name__ == "PipeAddress":
        # Twisted's PipeAddress has no useful str; it is always our stdio.
        return "standard I/O"
    return str(address)


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
