"""
Test helpers for code that uses txendpoints: a name resolver with fixed
answers and optional delays on a fake clock.

Install it on a L{twisted.internet.testing.MemoryReactorClock}::

    reactor = MemoryReactorClock()
    resolver = FakeResolver(reactor, {"example.org": ["::1", "127.0.0.1"]})
    reactor.installNameResolver(resolver)

L{SimulatedNetwork} goes one step further: a L{MemoryReactorClock} whose
outgoing TCP connections accept, refuse or stay silent on the fake clock, as
scripted per address, so client endpoints can be timed without sockets.
Its L{FixedSourceAddresses} table says which source address, if any, each
destination gets, so Happy Eyeballs' RFC 6724 sorting gives the same order
on every machine; any reactor that provides L{ISourceAddresses} is asked
the same way instead of the kernel.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectionRefusedError,
    NotConnectingError,
    TimeoutError,
    UserError,
)
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IDelayedCall,
    IHostnameResolver,
    IHostResolution,
    IReactorTime,
    IResolutionReceiver,
)
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from ._client._sorting import ISourceAddresses
from ._net import ADDRESS_CLASSES

__all__ = [
    "FakeResolution",
    "FakeResolver",
    "FixedSourceAddresses",
    "ISourceAddresses",
    "SimulatedConnector",
    "SimulatedNetwork",
]


@implementer(ISourceAddresses)
class FixedSourceAddresses:
    """
    A fixed answer to "which source address would the system use to reach
    this destination?", the question RFC 6724's sorting asks.

    By default every destination is reachable from an address like itself
    (same scope, same label): a dual-stack host with every route, on which
    the order is decided by the policy table and the resolver's order.
    """

    def __init__(self, table: Mapping[str, str | None] | None = None) -> None:
        """
        @param table: Destination -> source address literal, or L{None} for
            a destination with no route.  A key may be a network
            (C{"0.0.0.0/0": None}: no IPv4 route at all); the most specific
            entry that matches wins.
        """
        self._table: list[tuple[Any, str | None]] = sorted(
            (
                (ipaddress.ip_network(key, strict=False), value)
                for key, value in (table or {}).items()
            ),
            key=lambda entry: -entry[0].prefixlen,
        )

    def sourceFor(self, destination: str) -> str | None:
        """
        See L{ISourceAddresses.sourceFor}.
        """
        ip = ipaddress.ip_address(destination.split("%", 1)[0])
        for network, source in self._table:
            if ip.version == network.version and ip in network:
                return source
        return destination


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
            can make the AAAA query slower than the A query; a query for
            both families without a per-name delay waits for the slower
            family).  No entry means the answer comes at once,
            synchronously.
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
        if name in self._delays:
            return self._delays[name]
        # One query for both families, like getaddrinfo(AF_UNSPEC), answers
        # when the slower family does.
        perFamily = [
            self._delays[(name, f)] for f in (4, 6) if (name, f) in self._delays
        ]
        if len(set(types)) > 1 and perFamily:
            return max(perFamily)
        return None

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
                cls = ADDRESS_CLASSES[version]
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


Outcome = tuple[Literal["accept", "refuse"], float]


@implementer(IConnector)
class SimulatedConnector:
    """
    A connector of a L{SimulatedNetwork}; it behaves like Twisted's own:
    C{stopConnecting} reports a L{UserError} failure at once, a connector
    timeout fails with L{TimeoutError}, and the factory is started and
    stopped around the attempt.

    @ivar state: C{"connecting"}, C{"connected"} or C{"disconnected"}.
    @ivar stoppedConnecting: Whether C{stopConnecting} was called.
    @ivar transport: The connection's transport once connected.
    """

    stoppedConnecting = False
    transport: StringTransport | None = None

    def __init__(
        self,
        network: SimulatedNetwork,
        address: IPv4Address | IPv6Address,
        factory: Any,
        timeout: float | None,
        outcome: Outcome | None,
    ) -> None:
        self.state = "connecting"
        self._address = address
        self._factory = factory
        self._calls: list[IDelayedCall] = []
        factory.doStart()
        factory.startedConnecting(self)
        if timeout is not None:
            self._calls.append(
                network.callLater(timeout, self._fail, TimeoutError())  # type: ignore[no-untyped-call]
            )
        if outcome is not None:
            what, delay = outcome
            done = self._accept if what == "accept" else self._refuse
            self._calls.append(network.callLater(delay, done))

    def _cancelCalls(self) -> None:
        calls, self._calls = self._calls, []
        for call in calls:
            if call.active():
                call.cancel()

    def _fail(self, error: Exception) -> None:
        self._cancelCalls()
        self.state = "disconnected"
        self._factory.clientConnectionFailed(self, Failure(error))  # type: ignore[no-untyped-call]
        self._factory.doStop()

    def _refuse(self) -> None:
        self._fail(ConnectionRefusedError())  # type: ignore[no-untyped-call]

    def _accept(self) -> None:
        self._cancelCalls()
        self.state = "connected"
        protocol = self._factory.buildProtocol(self._address)
        if protocol is None:
            self.state = "disconnected"
            self._factory.doStop()
            return
        self.transport = StringTransport(peerAddress=self._address)  # type: ignore[no-untyped-call]
        protocol.makeConnection(self.transport)

    def stopConnecting(self) -> None:
        """
        See L{IConnector.stopConnecting}.
        """
        if self.state != "connecting":
            raise NotConnectingError("we're not trying to connect")
        self.stoppedConnecting = True
        self._fail(UserError())  # type: ignore[no-untyped-call]

    def disconnect(self) -> None:
        """
        See L{IConnector.disconnect}.
        """
        if self.state == "connecting":
            self.stopConnecting()
        elif self.transport is not None:
            self.transport.loseConnection()  # type: ignore[no-untyped-call]

    def connect(self) -> None:
        """
        See L{IConnector.connect}; a simulated connector does not restart.
        """
        raise NotImplementedError("simulated connectors do not reconnect")

    def getDestination(self) -> IPv4Address | IPv6Address:
        """
        See L{IConnector.getDestination}.
        """
        return self._address


@implementer(ISourceAddresses)
class SimulatedNetwork(MemoryReactorClock):
    """
    A L{MemoryReactorClock} whose C{connectTCP} attempts end as scripted,
    and whose source addresses come from a L{FixedSourceAddresses} table.

    @ivar attempts: C{(time, host)} of every C{connectTCP} call, in order.
    @ivar sources: Which source each destination gets.
    """

    def __init__(
        self,
        outcomes: Mapping[str, Outcome] | None = None,
        sources: FixedSourceAddresses | None = None,
    ) -> None:
        """
        @param outcomes: Address literal -> C{("accept", seconds)} or
            C{("refuse", seconds)}.  An address missing here never answers:
            only the connector's timeout ends its attempt.
        @param sources: The source-address table; by default every
            destination is reachable.
        """
        super().__init__()  # type: ignore[no-untyped-call]
        self.outcomes = dict(outcomes or {})
        self.attempts: list[tuple[float, str]] = []
        self.sources = sources if sources is not None else FixedSourceAddresses()

    def sourceFor(self, destination: str) -> str | None:
        """
        See L{ISourceAddresses.sourceFor}: what L{sources} says.
        """
        return self.sources.sourceFor(destination)

    def runUntil(self, result: Deferred[Any], limit: float = 3600.0) -> None:
        """
        Move the clock from one scheduled call to the next, landing on each
        call's time exactly, until C{result} has fired, nothing is left
        scheduled, or the next call is after C{limit} (the clock then
        stops at C{limit}).

        @param result: The L{Deferred} to wait for.
        @param limit: The time at which to give up.
        """
        done: list[bool] = []

        def finished(outcome: object) -> object:
            done.append(True)
            return outcome

        # Not result.called: a Deferred waiting on an inner one is "called".
        result.addBoth(finished)
        while not done and self.calls:
            nextTime = min(call.getTime() for call in self.calls)
            if nextTime > limit:
                self.rightNow = max(self.rightNow, limit)
                break
            self.rightNow = max(self.rightNow, nextTime)
            self.advance(0)

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float | None = 30,
        bindAddress: Any = None,
    ) -> SimulatedConnector:
        """
        Start a simulated connection attempt; see
        L{IReactorTCP.connectTCP<twisted.internet.interfaces.IReactorTCP.connectTCP>}.
        """
        self.tcpClients.append(
            (host, port, factory, timeout, bindAddress)  # type: ignore[arg-type]
        )
        self.attempts.append((self.seconds(), host))
        cls = IPv6Address if ":" in host else IPv4Address
        connector = SimulatedConnector(
            self, cls("TCP", host, port), factory, timeout, self.outcomes.get(host)
        )
        self.connectors.append(connector)
        return connector
