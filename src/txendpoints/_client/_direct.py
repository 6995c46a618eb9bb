"""
A connect to one address known at once (an address literal): no race, no
timer of ours, one C{connectTCP}, and the shape of Twisted's own TCP client
endpoints, which it must match in speed (issue 19).

As with Twisted's C{tcp:}, the user's factory is started when connecting
starts and stopped when the connection ends or the attempt fails, and
C{connectTCP}'s own timeout is the deadline.  Where Twisted's wrapper leaves
the caller waiting forever (a protocol whose C{connectionMade} raises) or
gives a less useful result (the destination a cancellation carries), this
one fails the L{Deferred}, and every other behaviour of a race of one
address holds: the single attempt's own error passes through unchanged,
cancelling stops the connector, and a connection that completes after a
cancellation is dropped.

For a name, L{startWhileConnecting} gives the race the same start and
stop of the user's factory.

It may import L{txendpoints._client._attempt},
L{txendpoints._client._socket}, L{txendpoints._errors},
Twisted and zope.interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectingCancelledError,
    NotConnectingError,
)
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IProtocol,
    IProtocolFactory,
)
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.python.failure import Failure

from .._errors import makeFailure
from ._attempt import _AttemptProtocol, _drop, handOver
from ._socket import SocketSetup

_CancelledError: Callable[..., Exception] = ConnectingCancelledError
_T = TypeVar("_T")


class _Direct(ClientFactory):
    """
    The factory handed to C{connectTCP} for a connect to one address.

    @ivar deferred: Fires with the user's connected protocol, or fails with
        the attempt's own failure, or with L{ConnectingCancelledError} when
        cancelled.
    """

    _connector: IConnector | None = None

    def __init__(
        self, factory: IProtocolFactory, cancelAddress: Callable[[], IAddress]
    ) -> None:
        """
        @param factory: The user's protocol factory.
        @param cancelAddress: Gives the destination a
            L{ConnectingCancelledError} carries; called only on
            cancellation, so that a connect that is not cancelled never
            builds it.
        """
        self._factory = factory
        self._cancelAddress = cancelAddress
        self.deferred: Deferred[IProtocol] = Deferred(self._cancel)

    def _cancel(self, deferred: Deferred[IProtocol]) -> None:
        connector = self._connector
        deferred.errback(makeFailure(_CancelledError(self._cancelAddress())))
        if connector is None:
            return
        try:
            connector.stopConnecting()
        except NotConnectingError:
            # Connected, its protocol not yet claimed: connected() drops it.
            pass

    def startedConnecting(self, connector: IConnector) -> None:
        self._connector = connector

    def doStart(self) -> None:
        self._factory.doStart()

    def doStop(self) -> None:
        self._factory.doStop()

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        if self.deferred.called:
            # Cancelled: decline the connection.
            return None
        return _AttemptProtocol(self, addr)  # type: ignore[arg-type]

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        if not self.deferred.called:
            self.deferred.errback(reason)

    def connected(self, standIn: _AttemptProtocol) -> None:
        """
        The connection is made: build the user's protocol and connect it,
        unless the connect was cancelled meanwhile.

        @param standIn: The stand-in protocol of the connection.
        @raise BaseException: Whatever the user's C{connectionMade} raised,
            for the transport to log and disconnect, as it does for any
            protocol (the connect fails with it too).
        """
        if self.deferred.called:
            _drop(standIn.transport)
            return
        handOver(standIn, self._factory, self.deferred)


def connectDirectly(
    reactor: Any,
    host: str,
    port: int,
    factory: IProtocolFactory,
    timeout: float | None,
    bindAddress: object,
    cancelAddress: Callable[[], IAddress],
) -> Deferred[IProtocol]:
    """
    Connect to one address, as Twisted's own TCP client endpoints do.

    @param reactor: An L{IReactorTCP<twisted.internet.interfaces.IReactorTCP>}.
    @param host: The address literal (an IPv6 one with its C{%zone}).
    @param port: The port.
    @param factory: The user's protocol factory.
    @param timeout: C{connectTCP}'s timeout: the deadline.
    @param bindAddress: C{connectTCP}'s C{bindAddress}, or a
        L{SocketSetup<txendpoints._client._socket.SocketSetup>} that says
        how to set up the socket as well.
    @param cancelAddress: Gives the destination a
        L{ConnectingCancelledError} carries.
    @return: A L{Deferred} as L{_Direct.deferred}; a C{connectTCP} that
        raises an L{Exception} fails it.
    """
    direct = _Direct(factory, cancelAddress)
    try:
        connectTCP = reactor.connectTCP
        if isinstance(bindAddress, SocketSetup):
            # Socket options: a connectTCP that sets them on the socket.
            connectTCP = bindAddress.connectTCP(reactor)
            bindAddress = bindAddress.bindAddress
        connectTCP(host, port, direct, timeout=timeout, bindAddress=bindAddress)
    except Exception:
        # As a race counts only Exceptions against an address: an
        # interruption (KeyboardInterrupt, SystemExit) propagates.
        if not direct.deferred.called:
            direct.deferred.errback(makeFailure())
    return direct.deferred


def startWhileConnecting(factory: IProtocolFactory, connecting: Deferred[_T]) -> None:
    """
    Start C{factory} now and stop it once C{connecting} has its result, as
    Twisted's C{tcp:} starts its factory from the connect on: connects made
    one after another then start the factory (and log that) once, not once
    each, although a race starts it for its winner only when it wins.

    @param factory: The user's factory; one that does not declare
        L{IProtocolFactory} (Twisted's tests pass a bare C{object()}, which
        a race never starts) is left alone.
    @param connecting: The connect's result; the winner's own start holds
        the factory for as long as its connection lasts.
    """
    if not IProtocolFactory.providedBy(factory):
        return
    factory.doStart()

    def stop(result: _T) -> _T:
        factory.doStop()
        return result

    connecting.addBoth(stop)
