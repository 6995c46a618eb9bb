"""
A byte relay between two endpoints, with flow control.

For each connection accepted on a server endpoint, L{RelayFactory} connects
a client endpoint and copies bytes both ways.  Each transport is registered
as the streaming producer of the other, so a slow reader on one side pauses
reading on the other and memory stays bounded; end of input on one side
becomes a half-close of the other; what was read from a side is flushed to
the other before it is closed.  L{txendpoints._relayservice.RelayService}
listens, and on stop gives open relays a grace period to finish.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import CancelledError, Deferred, maybeDeferred, succeed
from twisted.internet.endpoints import connectProtocol
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableProtocol,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ._grammar import describe
from ._resolve import formatAddress

log = Logger(namespace="txendpoints.relay")


def _abort(transport: Any) -> None:
    """
    Close C{transport} at once, or as soon as it can if it cannot abort
    (standard I/O, for one).

    @param transport: The transport to close.
    """
    getattr(transport, "abortConnection", transport.loseConnection)()


def _halfClose(transport: Any) -> None:
    """
    Close the writing half of C{transport}, or all of it if it cannot
    half-close (TLS, for one).

    @param transport: The transport to close for writing.
    """
    loseWriteConnection = getattr(transport, "loseWriteConnection", None)
    if loseWriteConnection is None:
        transport.loseConnection()
    else:
        loseWriteConnection()


@implementer(IHalfCloseableProtocol)
class _Side(Protocol):
    """
    One end of a relayed connection; what it reads goes to the other end.

    @ivar relay: The relay this side belongs to.
    @ivar role: C{"client"} for the accepted side, C{"server"} for the
        outgoing one.
    @ivar other: The other end, once both are connected.
    @ivar received: How many bytes this side has read.
    @ivar readClosed: Whether this side's input has ended.
    @ivar lost: Whether this side's connection is gone.
    @ivar producing: Whether this side's transport is registered as the
        producer of the other side's transport.
    @ivar early: What was read before the other end was connected, from a
        transport that delivered data although it was paused.
    """

    transport: Any

    def __init__(self, relay: Relay, role: str) -> None:
        self.relay = relay
        self.role = role
        self.other: _Side | None = None
        self.received = 0
        self.readClosed = False
        self.lost = False
        self.producing = False
        self.early: list[bytes] = []

    def connectionMade(self) -> None:
        self.relay._sideConnected(self)

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        if self.other is None:
            self.early.append(data)
        else:
            self.other.transport.write(data)

    def readConnectionLost(self) -> None:
        self.relay._inputEnded(self)

    def writeConnectionLost(self) -> None:
        # Our writing half is closed; the connection is closed once the
        # input has ended too (see Relay._inputEnded).
        pass

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.relay._sideLost(self, reason)


class Relay:
    """
    One relayed connection: the accepted side and, once it is up, the
    outgoing side.

    @ivar number: This relay's number, counted from 1 by its factory.
    @ivar peer: The address of the accepted side's peer, as text.
    @ivar accepted: The accepted side.
    @ivar outgoing: The outgoing side, or L{None} until it connects.
    @ivar ending: How the relay ended (first cause only), or L{None}.
    @ivar finished: Fires with L{None} once both sides are closed.
    """

    def __init__(self, factory: RelayFactory, number: int, peer: str) -> None:
        self.factory = factory
        self.number = number
        self.peer = peer
        self.started = factory.reactor.seconds()
        self.accepted = _Side(self, "client")
        self.outgoing: _Side | None = None
        self.ending: str | None = None
        self.finished: Deferred[None] = Deferred()
        self._connecting: Deferred[Any] | None = None
        self._aborting = False
        self._done = False

    def _end(self, ending: str) -> None:
        if self.ending is None:
            self.ending = ending

    def _sideConnected(self, side: _Side) -> None:
        if side is self.accepted:
            # Nothing may be read from the client until there is somewhere
            # to write it.
            side.transport.pauseProducing()
            self.factory._log(
                log.info,
                "#{relay} from {peer} accepted",
                relay=self.number,
                peer=self.peer,
            )
            outgoing = _Side(self, "server")
            # maybeDeferred: a third-party endpoint might raise at once.
            self._connecting = maybeDeferred(
                connectProtocol, self.factory.connectTo, outgoing
            )
            self._connecting.addErrback(self._connectFailed)
            return
        self._connecting = None
        if self.accepted.lost:
            # The client left while we were connecting and the endpoint
            # could not cancel; this side is not part of the relay.
            side.transport.loseConnection()
            return
        self.outgoing = side
        self.accepted.other, side.other = side, self.accepted
        self.accepted.transport.registerProducer(side.transport, True)
        side.transport.registerProducer(self.accepted.transport, True)
        side.producing = self.accepted.producing = True
        if self.accepted.early:
            side.transport.writeSequence(self.accepted.early)
            self.accepted.early = []
        if self.accepted.readClosed:
            # Its input ended early too, with nowhere to pass that on then.
            self._inputEnded(self.accepted)
            return
        self.accepted.transport.resumeProducing()

    def _connectFailed(self, reason: Failure) -> None:
        self._connecting = None
        if isinstance(reason.value, CancelledError):
            # Only we cancel: when the client left, or in abort(), which
            # closes the client itself.
            return
        self._end(f"connecting failed: {reason.getErrorMessage()}")
        self.factory._log(
            log.warn,
            "#{relay} from {peer}: connecting to {connectTo} failed: {reason}",
            relay=self.number,
            peer=self.peer,
            connectTo=self.factory.connectName,
            reason=reason.getErrorMessage(),
        )
        self.accepted.transport.loseConnection()

    def _inputEnded(self, side: _Side) -> None:
        side.readClosed = True
        self._end(f"closed by the {side.role}")
        other = side.other
        if other is None or other.lost:
            return
        # This side will produce nothing more; left registered while
        # paused, it would keep the other transport from finishing its
        # half-close.
        self._stopProducing(side)
        if other.readClosed:
            side.transport.loseConnection()
            other.transport.loseConnection()
        else:
            _halfClose(other.transport)

    def _stopProducing(self, side: _Side) -> None:
        if side.producing and side.other is not None:
            side.producing = False
            side.other.transport.unregisterProducer()

    def _sideLost(self, side: _Side, reason: Failure) -> None:
        side.lost = True
        if side is not self.accepted and side is not self.outgoing:
            return
        if isinstance(reason.value, ConnectionDone):
            self._end(f"closed by the {side.role}")
        else:
            self._end(f"{side.role} connection lost: {reason.getErrorMessage()}")
        if self._connecting is not None:
            self._connecting.cancel()
        other = side.other
        if other is not None and not other.lost:
            # loseConnection sends what was already read from this side
            # before closing.
            self._stopProducing(side)
            if self._aborting:
                _abort(other.transport)
            else:
                other.transport.loseConnection()
        if self.accepted.lost and (self.outgoing is None or self.outgoing.lost):
            self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        duration = self.factory.reactor.seconds() - self.started
        up = self.accepted.received
        down = self.outgoing.received if self.outgoing is not None else 0
        self.factory._log(
            log.info,
            "#{relay} from {peer} ended after {duration:.3f} s, "
            "{bytesUp} bytes up, {bytesDown} bytes down: {ending}",
            relay=self.number,
            peer=self.peer,
            duration=duration,
            bytesUp=up,
            bytesDown=down,
            ending=self.ending,
        )
        self.factory._relayFinished(self)
        self.finished.callback(None)

    def abort(self) -> None:
        """
        Close both sides at once, dropping whatever is still buffered.
        """
        self._end("aborted at shutdown")
        self._aborting = True
        for side in (self.accepted, self.outgoing):
            if side is not None and not side.lost:
                _abort(side.transport)
        if self._connecting is not None:
            self._connecting.cancel()


class RelayFactory(Factory):
    """
    Builds a L{Relay} for each accepted connection.

    @ivar reactor: The reactor, for time.
    @ivar connectTo: Where each relay connects.
    @ivar connectName: What to call C{connectTo} in the log.
    @ivar maxConnections: How many relays may be open at once; more are
        refused (closed at once).  L{None} for no limit.
    @ivar relays: The relays open now.
    @ivar onFinished: Called with each relay that has finished, if set.
    """

    def __init__(
        self,
        reactor: IReactorTime,
        connectTo: IStreamClientEndpoint,
        maxConnections: int | None = None,
        connectName: str | None = None,
    ) -> None:
        """
        @param reactor: The reactor, for time.
        @param connectTo: The endpoint to connect for each relay.
        @param maxConnections: The most relays open at once, or L{None}.
        @param connectName: What to call C{connectTo} in the log, such as
            the string it was built from; by default, its L{describe}
            string if it is one of ours, or its C{repr}.
        """
        self.reactor = reactor
        # Twisted would log "Starting factory" for each listen; our own
        # log says what matters.
        self.noisy = False
        self.connectTo = connectTo
        if connectName is None:
            try:
                connectName = describe(connectTo)
            except TypeError:
                connectName = repr(connectTo)
        self.connectName = connectName
        self.maxConnections = maxConnections
        self.relays: set[Relay] = set()
        self.onFinished: Callable[[Relay], object] | None = None
        self._count = 0
        self._idle: list[Deferred[None]] = []
        self._heldLog: list[Callable[[], None]] | None = None

    def _log(self, emit: Callable[..., None], format: str, **fields: object) -> None:
        if self._heldLog is None:
            emit(format, **fields)
        else:
            self._heldLog.append(lambda: emit(format, **fields))

    def holdLog(self) -> None:
        """
        Hold back the log of each connection until L{releaseLog}: a port
        that connects inside C{listen}, as a standard-I/O one does, would
        otherwise log its connection before where it listens.
        """
        if self._heldLog is None:
            self._heldLog = []

    def releaseLog(self) -> None:
        """
        Log what L{holdLog} held back, and from now on log as it happens.
        """
        held, self._heldLog = self._heldLog or [], None
        for emit in held:
            emit()

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        self._count += 1
        peer = formatAddress(addr)
        if self.maxConnections is not None and len(self.relays) >= self.maxConnections:
            self._log(
                log.warn,
                "#{relay} from {peer} refused: {open} connections open already",
                relay=self._count,
                peer=peer,
                open=len(self.relays),
            )
            return None
        relay = Relay(self, self._count, peer)
        self.relays.add(relay)
        return relay.accepted

    def _relayFinished(self, relay: Relay) -> None:
        self.relays.discard(relay)
        if self.onFinished is not None:
            self.onFinished(relay)
        if not self.relays:
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)

    def whenIdle(self) -> Deferred[None]:
        """
        @return: A L{Deferred} that fires once no relay is open.
        """
        if not self.relays:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._idle.append(d)
        return d

    def drain(self, grace: float) -> Deferred[None]:
        """
        Let open relays finish for C{grace} seconds, then abort the rest.

        @param grace: Seconds to wait before aborting.
        @return: A L{Deferred} that fires once no relay is open.
        """
        idle = self.whenIdle()
        if idle.called:
            return idle
        if grace > 0:
            log.info(
                "waiting up to {grace:g} s for {count} open connections",
                grace=grace,
                count=len(self.relays),
            )
        timer: IDelayedCall = self.reactor.callLater(grace, self.abortAll)

        def cancelTimer(result: None) -> None:
            if timer.active():
                timer.cancel()

        return idle.addCallback(cancelTimer)

    def abortAll(self) -> None:
        """
        Abort every open relay.
        """
        for relay in list(self.relays):
            relay.abort()
