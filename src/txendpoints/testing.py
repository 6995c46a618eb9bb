"""
Test helpers for code that uses txendpoints: a name resolver with fixed
answers and optional delays on a fake clock.

Install it on a L{twisted.internet.testing.MemoryReactorClock}::

    reactor = MemoryReactorClock()
    resolver = FakeResolver(reactor, {"example.org": ["::1", "127.0.0.1"]})
    reactor.installNameResolver(resolver)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHostnameResolver,
    IHostResolution,
    IReactorTime,
    IResolutionReceiver,
)
from zope.interface import implementer

__all__ = ["FakeResolution", "FakeResolver"]


@implementer(IHostResolution)
@dataclass(eq=False)
class FakeResolution:
    """
    One resolution started by a L{FakeResolver}.

    @ivar name: The host name asked for.
    @ivar addressTypes: The address types asked for.
    @ivar cancelled: Whether the resolution was cancelled.
    @ivar completed: Whether C{resolutionComplete} was delivered.
    """

    name: str
    addressTypes: tuple[type[IAddress], ...]
    cancelled: bool = False
    completed: bool = False
    _call: IDelayedCall | None = field(default=None, repr=False)

    def cancel(self) -> None:
        """
        Stop the resolution: nothing more is delivered to the receiver.
        """
        self.cancelled = True
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None


@implementer(IHostnameResolver)
class FakeResolver:
    """
    An L{IHostnameResolver} with fixed answers.

    @ivar resolutions: Every resolution started, in order.
    """

    def __init__(
        self,
        clock: IReactorTime,
        answers: Mapping[str, Iterable[str]],
        delays: Mapping[str | tuple[str, int], float] | None = None,
    ) -> None:
        """
        @param clock: Where delays are scheduled.
        @param answers: Host name -> address literals, in the order the
            resolver gives them.  A name missing here resolves to nothing.
        @param delays: Seconds before the answer is delivered, by host name
            or by C{(name, family)} where family is C{4} or C{6} (the
            latter applies when only that family is asked for, so a test
            can make the AAAA query slower than the A query).  No entry
            means the answer comes at once, synchronously.
        """
        self._clock = clock
        self._answers = {name: list(addrs) for name, addrs in answers.items()}
        self._delays = dict(delays or {})
        self.resolutions: list[FakeResolution] = []

    def _delay(self, name: str, types: Sequence[type[IAddress]]) -> float | None:
        if tuple(types) == (IPv4Address,) and (name, 4) in self._delays:
            return self._delays[(name, 4)]
        if tuple(types) == (IPv6Address,) and (name, 6) in self._delays:
            return self._delays[(name, 6)]
        return self._delays.get(name)

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
        types = tuple(addressTypes or (IPv4Address, IPv6Address))
        resolution = FakeResolution(hostName, types)
        self.resolutions.append(resolution)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver() -> None:
            resolution._call = None
            if resolution.cancelled:
                return
            for literal in self._answers.get(hostName, []):
                version = ipaddress.ip_address(literal.split("%")[0]).version
                cls = IPv4Address if version == 4 else IPv6Address
                if cls in types:
                    resolutionReceiver.addressResolved(cls("TCP", literal, portNumber))
            resolution.completed = True
            resolutionReceiver.resolutionComplete()

        delay = self._delay(hostName, types)
        if delay is None:
            deliver()
        else:
            resolution._call = self._clock.callLater(delay, deliver)
        return resolution
