"""
One connection attempt of a race: the factory handed to C{connectTCP}, and
the protocol that stands in for the user's until its connection wins.

An attempt knows nothing of the race that runs it: it is given two plain
callables, one that reports its failure and one that says whether its
connection wins.  It may import only L{txendpoints._net},
L{txendpoints._errors}, L{txendpoints._client._socket}, Twisted and
zope.interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError, NoProtocol, NotConnectingError
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IHandshakeListener,
    ILoggingContext,
    IProtocol,
    IProtocolFactory,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import alsoProvides

from .._errors import makeFailure
from .._net import IPAddress, scopedHost
from ._socket import SocketSetup

#: The optional protocol interfaces a transport looks for on its protocol.
_OPTIONAL = (IHalfCloseableProtocol, IFileDescriptorReceiver, IHandshakeListener)


class _AttemptProtocol(Protocol):
    """
    Stands in for the user's protocol until its connection wins the race,
    then passes every event through to the user's.

    @ivar address: The address C{buildProtocol} was given.
    """

    wrapped: IProtocol | None = None

    def __init__(self, attempt: _Attempt, address: IAddress | None) -> None:
        self._attempt = attempt
        self.address = address

    def passTo(self, wrapped: IProtocol) -> None:
        """
        From now on, pass every event to C{wrapped}.

        @param wrapped: The user's protocol for this connection.
        """
        for iface in _OPTIONAL:
            if iface.providedBy(wrapped):
                # alsoProvides: directlyProvides would keep only the last.
                alsoProvides(self, iface)
        self.wrapped = wrapped
        standIn = type(self).__name__
        logstr = getattr(self.transport, "logstr", None)
        if isinstance(logstr, str) and logstr.startswith(standIn):
            # Twisted's TCP transport took its log prefix from the stand-in
            # before it had a protocol to name; name the user's, as
            # Twisted's own endpoints do.
            self.transport.logstr = self.logPrefix() + logstr[len(standIn) :]  # type: ignore[union-attr]

    def logPrefix(self) -> str:
        if ILoggingContext.providedBy(self.wrapped):
            return str(self.wrapped.logPrefix())
        return type(self.wrapped or self).__name__

    def connectionMade(self) -> None:
        self._attempt.connected(self)

    def dataReceived(self, data: bytes) -> None:
        if self.wrapped is not None:
            self.wrapped.dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.wrapped is not None:
            self.wrapped.connectionLost(reason)

    def readConnectionLost(self) -> None:
        IHalfCloseableProtocol(self.wrapped).readConnectionLost()

    def writeConnectionLost(self) -> None:
        IHalfCloseableProtocol(self.wrapped).writeConnectionLost()

    def fileDescriptorReceived(self, descriptor: int) -> None:
        IFileDescriptorReceiver(self.wrapped).fileDescriptorReceived(descriptor)

    def handshakeCompleted(self) -> None:
        IHandshakeListener(self.wrapped).handshakeCompleted()


class _Attempt(ClientFactory):
    """
    One connection attempt to one address: the factory handed to
    C{connectTCP}.

    @ivar address: The address connected to.
    @ivar connector: What C{connectTCP} returned, once it has.
    @ivar connecting: Whether the attempt has neither failed, nor won, nor
        been stopped.  It reports only while connecting.
    """

    connector: IConnector | None = None
    connecting = True
    _started = False

    def __init__(
        self,
        address: IPAddress,
        factory: IProtocolFactory,
        failed: Callable[[_Attempt, Failure], object],
        claim: Callable[[_Attempt], Deferred[IProtocol] | None],
    ) -> None:
        """
        @param address: The address to connect to.
        @param factory: The user's protocol factory, started and used only
            if this attempt wins.
        @param failed: Called with the attempt and its failure to connect.
        @param claim: Called with the attempt when its connection is made;
            returns the L{Deferred} to fire with the user's protocol if the
            connection wins, or L{None} if it lost (the race is over).
        """
        self.address = address
        self._factory = factory
        self._failed = failed
        self._claim = claim

    def connect(self, reactor: Any, timeout: float | None, bindAddress: object) -> None:
        """
        Start connecting.  A connection failure C{connectTCP} raises
        (L{ConnectError<twisted.internet.error.ConnectError>} or
        L{OSError}) is this attempt's failure, reported through C{failed};
        anything else is not the address's fault and is raised.

        @param reactor: An L{IReactorTCP<twisted.internet.interfaces.IReactorTCP>}.
        @param timeout: The C{timeout} for C{connectTCP}.
        @param bindAddress: The C{bindAddress} for C{connectTCP}, or a
            L{SocketSetup} that says how to set up the socket as well.
        @raise BaseException: Whatever else C{connectTCP} raised.
        """
        try:
            connectTCP = reactor.connectTCP
            if isinstance(bindAddress, SocketSetup):
                # Socket options: a connectTCP that sets them on the socket.
                connectTCP = bindAddress.connectTCP(reactor)
                bindAddress = bindAddress.bindAddress
            self.connector = connectTCP(
                # A resolver may give the zone only as scopeID, which
                # connectTCP ignores.
                scopedHost(self.address),
                self.address.port,
                self,
                timeout=timeout,
                bindAddress=bindAddress,
            )
        except (ConnectError, OSError):
            self.clientConnectionFailed(None, makeFailure())
        except BaseException:
            # A programming error, or an interrupt: not the address's
            # failure, so it must not start the next attempt.
            self.connecting = False
            raise

    def stop(self) -> None:
        """
        Stop this attempt if it is still connecting; it reports nothing more.
        """
        if not self.connecting:
            return
        self.connecting = False
        if self.connector is None:
            return
        try:
            self.connector.stopConnecting()
        except NotConnectingError:
            self.connector.disconnect()

    def doStart(self) -> None:
        # The user's factory is started only for the winner, in connected.
        pass

    def doStop(self) -> None:
        if self._started:
            self._factory.doStop()

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        if not self.connecting:
            # A late connection after the race ended: decline it.
            return None
        return _AttemptProtocol(self, addr)

    def clientConnectionFailed(
        self, connector: IConnector | None, reason: Failure
    ) -> None:
        if self.connecting:
            self.connecting = False
            self._failed(self, reason)

    def connected(self, standIn: _AttemptProtocol) -> None:
        """
        The connection of C{standIn} is made: if it wins, build the user's
        protocol and connect it; otherwise drop the connection.

        @param standIn: The stand-in protocol of the connection.
        @raise BaseException: Whatever the user's C{connectionMade} raised,
            for the transport to log and disconnect, as it does for any
            protocol (the race fails with it too).
        """
        transport: Any = standIn.transport
        won = None
        if self.connecting:
            # Not connecting before the claim, so that the race's stopping
            # of the other attempts leaves this one alone.
            self.connecting = False
            won = self._claim(self)
        if won is None:
            _drop(transport)
            return
        # A factory that cannot start fails the race it won; nothing else
        # is left to start it again.
        handOver(standIn, self._factory, won, start=self._start)

    def _start(self) -> None:
        self._factory.doStart()
        self._started = True


def handOver(
    standIn: _AttemptProtocol,
    factory: IProtocolFactory,
    won: Deferred[IProtocol],
    start: Callable[[], object] | None = None,
) -> None:
    """
    Give a connection that won to the user: build the user's protocol,
    pass the stand-in's events to it, connect it, and fire C{won} with it;
    or, if that fails, close the connection and fail C{won}.

    @param standIn: The stand-in protocol of the connection, connected.
    @param factory: The user's protocol factory.
    @param won: Fires with the user's protocol.
    @param start: If given, called first: what must happen before the
        user's protocol is built (starting the user's factory).
    @raise BaseException: Whatever the user's C{connectionMade} raised,
        for the transport to log and disconnect, as it does for any
        protocol (C{won} fails with it too).
    """
    transport: Any = standIn.transport
    try:
        if start is not None:
            start()
        wrapped = factory.buildProtocol(standIn.address or transport.getPeer())
        if wrapped is None:
            raise NoProtocol()
    except BaseException:
        reason = makeFailure()
        transport.loseConnection()
        won.errback(reason)
        return
    standIn.passTo(wrapped)
    try:
        wrapped.makeConnection(transport)
    except BaseException:
        won.errback()
        raise
    won.callback(wrapped)


def _drop(transport: Any) -> None:
    """
    Close a connection that lost the race, at once where the transport can.
    """
    abort = getattr(transport, "abortConnection", None)
    (abort or transport.loseConnection)()
