"""
One connection attempt of a L{StaggeredAttempts} race: the factory handed
to C{connectTCP}, and the protocol that stands in for the user's until its
connection wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet.error import NotConnectingError
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IHandshakeListener,
    ILoggingContext,
    IProtocol,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from .._net import IPAddress
    from ._race import StaggeredAttempts


class _AttemptProtocol(Protocol):
    """
    Stands in for the user's protocol until its connection wins the race,
    then builds that protocol and passes every event through to it.
    """

    wrapped: IProtocol | None = None

    def __init__(self, attempt: _Attempt, address: IAddress | None) -> None:
        self._attempt = attempt
        self._address = address

    def logPrefix(self) -> str:
        if ILoggingContext.providedBy(self.wrapped):
            return str(self.wrapped.logPrefix())
        return type(self.wrapped or self).__name__

    def connectionMade(self) -> None:
        self._attempt.race._won(self._attempt, self)

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
    One connection attempt: the factory handed to C{connectTCP}.

    @ivar pending: Whether the attempt has neither failed nor won nor been
        stopped.
    @ivar won: Whether this attempt's connection won the race.
    """

    connector: IConnector | None = None
    pending = True
    won = False

    def __init__(self, race: StaggeredAttempts, address: IPAddress) -> None:
        self.race = race
        self.address = address

    def doStart(self) -> None:
        # The user's factory is started only for the winner, in _won.
        pass

    def doStop(self) -> None:
        if self.won:
            self.race._factory.doStop()

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        if self.race.over:
            # A late connection after the race ended: decline it.
            return None
        return _AttemptProtocol(self, addr)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.race._failed(self, reason)

    def stop(self) -> None:
        """
        Stop this attempt if it is still connecting.
        """
        self.pending = False
        if self.connector is None:
            return
        try:
            self.connector.stopConnecting()
        except NotConnectingError:
            self.connector.disconnect()
