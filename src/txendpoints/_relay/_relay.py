"""
A byte relay between two endpoints, with flow control.

For each connection accepted on a server endpoint, the factory
(L{txendpoints._relay._factory}) builds a L{Relay}, which connects a client
endpoint and copies bytes both ways.  Each transport is registered
as the streaming producer of the other, so a slow reader on one side pauses
reading on the other and memory stays bounded; end of input on one side
becomes a half-close of the other; what was read from a side is flushed to
the other before it is closed, and a side lost uncleanly (a reset) is
passed on as a reset.  L{txendpoints._relay._service.RelayService}
listens, and on stop gives open relays a grace period to finish.

What L{RelaySettings <txendpoints._relay._options.RelaySettings>} asks
for happens here too: connecting again after a connection error
(L{txendpoints._relay._retry}), the PROXY protocol header
(L{txendpoints._relay._proxyheader}) and the idle timeout
(L{txendpoints._relay._idle}).

It may import L{txendpoints._relay._options}, L{txendpoints._relay._retry},
L{txendpoints._relay._proxyheader}, L{txendpoints._relay._idle},
L{txendpoints._relay._transports}, the string layer and everything below
it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import Protocol as _Protocol

from twisted.internet.defer import CancelledError, Deferred, maybeDeferred
from twisted.internet.endpoints import connectProtocol
from twisted.internet.error import ConnectingCancelledError, ConnectionDone
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ._idle import IdleWatch, watchIdle
from ._join import SPLICE_AFTER, joinBySplice, spliceNow
from ._options import MAX_RETRY_DELAY, RelaySettings
from ._proxyheader import proxyHeader
from ._retry import connectWithRetry, retryDelays
from ._splice import SplicePump
from ._transports import abort as _abort
from ._transports import halfClose as _halfClose

log = Logger(namespace="txendpoints.relay")

#: How many bytes of the accepted side are read while the outgoing
#: connection is made, before reading pauses: one write buffer's worth
#: (Twisted's C{FileDescriptor.bufferSize}), so that memory stays bounded
#: whatever the client sends.
EARLY_LIMIT = 65536


class RelayOwner(_Protocol):
    """
    What a L{Relay} needs of the factory that made it (L{RelayFactory
    <txendpoints._relay._factory.RelayFactory>}).
    """

    reactor: IReactorTime
    connectTo: IStreamClientEndpoint
    connectName: str
    settings: RelaySettings

    def _log(self, emit: Callable[..., None], format: str, **fields: object) -> None:
        """Log now, or later if the factory is holding its log back."""

    def _relayFinished(self, relay: Relay) -> None:
        """Forget a relay that has finished."""


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
    @ivar early: What was read before the other end was connected.
    @ivar earlySize: How many bytes C{early} holds.
    @ivar paused: Whether this side's transport is paused because C{early}
        is full.
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
        self.earlySize = 0
        self.paused = False

    def connectionMade(self) -> None:
        self.relay._sideConnected(self)

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        if self.relay.idle is not None:
            self.relay.idle.moved()
        if self.other is None:
            self.early.append(data)
            self.earlySize += len(data)
            if self.earlySize >= EARLY_LIMIT and not self.paused:
                self.paused = True
                self.transport.pauseProducing()
        elif not spliceNow(self.relay, self, data):  # Issue 18: a stream
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
    @ivar connectFailure: Why the outgoing connection could not be made, or
        L{None} if it was made, is still being made, or was cancelled by
        the relay.
    @ivar finished: Fires with L{None} once both sides are closed.
    @ivar idle: The idle timeout's watch, once both sides are connected, if
        there is an idle timeout.
    """

    def __init__(self, factory: RelayOwner, number: int, peer: str) -> None:
        self.factory = factory
        self.number = number
        self.peer = peer
        self.started = factory.reactor.seconds()
        self.accepted = _Side(self, "client")
        self.outgoing: _Side | None = None
        self.ending: str | None = None
        self.connectFailure: Failure | None = None
        self.finished: Deferred[None] = Deferred()
        self._connecting: Deferred[Any] | None = None
        self._cancelled = False
        self._aborting = False
        self._done = False
        self.idle: IdleWatch | None = None
        #: The splice pump while it moves the bytes; stop it before
        #: closing a transport (L{txendpoints._relay._join}).
        self._pump: SplicePump | None = None
        #: After how many bytes a side's read may move the relay to a pump.
        self._spliceAfter: int | None = None

    def _end(self, ending: str) -> None:
        if self.ending is None:
            self.ending = ending

    def _sideConnected(self, side: _Side) -> None:
        if side is self.accepted:
            # The client is read while we connect (up to EARLY_LIMIT), so
            # that its leaving is seen and cancels the connect at once.
            self.factory._log(
                log.info,
                "#{relay} from {peer} accepted",
                relay=self.number,
                peer=self.peer,
            )
            settings = self.factory.settings
            self._connecting = connectWithRetry(
                self.factory.reactor,
                self._connectOnce,
                settings.connectRetry,
                retryDelays(settings.retryDelay, MAX_RETRY_DELAY),
                self._willRetry,
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
        # Issue 18: splice(2) when both sides are TCP on Linux; a PROXY
        # header goes first, through the transport, so no pump at once.
        proxied = self.factory.settings.proxyProtocol is not None
        if joinBySplice(self, SPLICE_AFTER if proxied else None):
            self._watchIdle()
        else:
            self._joinTransports()

    def _joinTransports(self) -> None:
        side = self.outgoing
        assert side is not None
        self.accepted.transport.registerProducer(side.transport, True)
        side.transport.registerProducer(self.accepted.transport, True)
        side.producing = self.accepted.producing = True
        version = self.factory.settings.proxyProtocol
        if version is not None:
            accepted = self.accepted.transport
            side.transport.write(
                proxyHeader(version, accepted.getPeer(), accepted.getHost())
            )
        self._watchIdle()
        if self.accepted.early:
            side.transport.writeSequence(self.accepted.early)
            self.accepted.early, self.accepted.earlySize = [], 0
        if self.accepted.readClosed:
            # Its input ended early too, with nowhere to pass that on then.
            self._inputEnded(self.accepted)
            return
        if self.accepted.paused:
            self.accepted.paused = False
            self.accepted.transport.resumeProducing()

    def _connectOnce(self) -> Deferred[Any]:
        # maybeDeferred: an endpoint may raise; a fresh side per attempt.
        return maybeDeferred(
            connectProtocol, self.factory.connectTo, _Side(self, "server")
        )

    def _willRetry(self, reason: Failure, retry: int, wait: float) -> None:
        retries = self.factory.settings.connectRetry
        self.factory._log(
            log.info,
            "#{relay} from {peer}: connecting to {connectTo} failed: {reason}; "
            "retry {retry} in {wait:g} s",
            relay=self.number,
            peer=self.peer,
            connectTo=self.factory.connectName,
            reason=reason.getErrorMessage(),
            retry=retry if retries is None else f"{retry} of {retries}",
            wait=wait,
        )

    def _watchIdle(self) -> None:
        self.idle = watchIdle(self)

    def byteCounts(self) -> tuple[int, int]:
        """
        @return: The bytes relayed so far: up (from the client) and down.
        """
        down = self.outgoing.received if self.outgoing is not None else 0
        return self.accepted.received, down

    def _cancelConnecting(self) -> None:
        if self._connecting is not None:
            self._cancelled = True
            self._connecting.cancel()

    def _connectFailed(self, reason: Failure) -> None:
        self._connecting = None
        cancelled = (CancelledError, ConnectingCancelledError)
        if self._cancelled and isinstance(reason.value, cancelled):
            # We cancelled: the client left, or abort() closes it itself.
            # Real endpoints fail a cancelled connect with
            # ConnectingCancelledError, a bare Deferred with CancelledError.
            return
        self.connectFailure = reason
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
        other = side.other
        if other is None:
            # Not an end yet: passed on once the outgoing side is up, and
            # if it never is, the relay ends for that reason.
            return
        self._end(f"closed by the {side.role}")
        if other.lost:
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
        clean = isinstance(reason.value, ConnectionDone)
        if clean:
            self._end(f"closed by the {side.role}")
        else:
            self._end(f"{side.role} connection lost: {reason.getErrorMessage()}")
        self._cancelConnecting()
        other = side.other
        if other is not None and not other.lost:
            self._stopProducing(side)
            if self._aborting:
                _abort(other.transport)
            elif not clean:
                # A clean close here would tell the other peer that the
                # stream is complete; it was cut off, so say so the way TCP
                # does, with a reset (abortConnection sets SO_LINGER 0).
                self.factory._log(
                    log.info,
                    "#{relay} from {peer}: {role} connection lost ({reason}); "
                    "resetting the {other} connection",
                    relay=self.number,
                    peer=self.peer,
                    role=side.role,
                    other=other.role,
                    reason=reason.getErrorMessage(),
                )
                _abort(other.transport)
            else:
                # loseConnection sends what was already read from this side
                # before closing.
                other.transport.loseConnection()
        if self.accepted.lost and (self.outgoing is None or self.outgoing.lost):
            self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        if self.idle is not None:
            self.idle.stop()
        duration = self.factory.reactor.seconds() - self.started
        up, down = self.byteCounts()
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
        if self._pump is not None:
            self._pump.stop()
            self._pump = None
        for side in (self.accepted, self.outgoing):
            if side is not None and not side.lost:
                _abort(side.transport)
        self._cancelConnecting()
