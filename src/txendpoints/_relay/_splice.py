"""
The zero-copy relay path: bytes move socket -> pipe -> socket with
C{splice(2)}, never through Python.

A L{SplicePump} joins two connected TCP transports.  It takes their
descriptors from the reactor (the transports stop reading and writing) and
registers its own small descriptor objects for them through
L{IReactorFDSet}, so the relay stays one reactor.  Each direction has a
pipe, which bounds the bytes in flight (flow control: a full pipe stops
reading its source, so a stalled reader stalls only its direction).  End
of input on one side, once the pipe has drained, becomes C{shutdown(SHUT_WR)}
on the other; an error on a side is reported to the owner, which passes it
on as a reset.  The transports still close the connections, once the pump
has stopped and given their descriptors back.

L{txendpoints._relay._join} decides when to use it.

It may import Twisted only: it is the bottom of the relay layer.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any
from typing import Protocol as _Protocol

from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import (
    IReactorFDSet,
    IReactorTime,
    IReadWriteDescriptor,
)
from twisted.python.failure import Failure
from zope.interface import implementer

from ._pipes import Pipe, PipePool

_FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_NONBLOCK", 0)

#: Errors of a first splice that mean the kernel will not splice these
#: descriptors at all; the relay then uses the transports instead.
REFUSED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF})

#: How many reads and writes one readiness notification may do, so that a
#: busy connection cannot keep the reactor from the others for long.
ROUNDS = 4


class PumpOwner(_Protocol):
    """
    What a L{SplicePump} tells whoever started it.  Side 0 is the first
    transport given, side 1 the second; direction C{i} reads side C{i}.
    """

    def pumpMoved(self, side: int, count: int) -> None:
        """C{count} more bytes were read from C{side}."""

    def pumpInputEnded(self, side: int) -> None:
        """C{side}'s input ended; it is passed on once its pipe drains."""

    def pumpFinished(self) -> None:
        """Both inputs ended and were passed on; the pump has stopped."""

    def pumpLost(self, side: int, reason: Failure) -> None:
        """C{side} failed (a reset, for one); the pump has stopped."""

    def pumpRefused(self, unsent: bytes, reason: str) -> None:
        """
        The kernel refused to splice before a byte moved; the pump has
        stopped, and C{unsent} is what is left of its C{prefix}.
        """


class SpliceTransport(_Protocol):
    """
    What the pump needs of a transport: Twisted's
    L{twisted.internet.tcp.Connection} has all of it.
    """

    def getHandle(self) -> Any:
        """The socket."""

    def stopReading(self) -> None:
        """Stop watching for input."""

    def stopWriting(self) -> None:
        """Stop watching for room to write."""


class _Direction:
    """
    Bytes from one side to the other, through a pipe.

    @ivar source: The descriptor read.
    @ivar sink: The descriptor written.
    @ivar pipe: The pipe.
    @ivar buffered: How many bytes the pipe holds.
    @ivar prefix: Bytes to send before the pipe's (read before the pump
        started).
    @ivar full: Whether the pipe refused more, with C{buffered} under its
        size: it has run out of slots (one per chunk of the socket).
    @ivar ended: Whether the source's input has ended.
    @ivar shut: Whether that end was passed on.
    """

    def __init__(self, source: int, sink: int, pipe: Pipe, prefix: bytes) -> None:
        self.source = source
        self.sink = sink
        self.pipe = pipe
        self.buffered = 0
        self.prefix = memoryview(prefix)
        self.full = False
        self.ended = False
        self.shut = False

    def pending(self) -> bool:
        return bool(self.buffered or len(self.prefix))

    def wantsInput(self) -> bool:
        return not self.ended and not self.full and self.buffered < self.pipe.size


@implementer(IReadWriteDescriptor)
class _Descriptor:
    """
    One side's socket as the reactor sees it while the pump owns it.
    """

    def __init__(self, pump: SplicePump, side: int, fd: int) -> None:
        self.pump = pump
        self.side = side
        self.fd = fd
        self.reading = False
        self.writing = False

    def fileno(self) -> int:
        return self.fd

    def doRead(self) -> None:
        self.pump._readable(self.side)

    def doWrite(self) -> None:
        self.pump._writable(self.side)

    def connectionLost(self, reason: Failure) -> None:
        # The reactor saw a hang-up or error and has already forgotten us.
        self.reading = self.writing = False
        self.pump._lost(self.side, reason)

    def logPrefix(self) -> str:
        return "SplicePump"


class SplicePump:
    """
    Moves bytes both ways between two connected sockets with C{splice(2)}.

    @ivar moved: How many bytes were read from each side.
    @ivar lastActivity: When a byte last moved (the reactor's time), for an
        idle timeout; when the pump started until then.
    @ivar running: Whether the pump owns the descriptors.
    """

    def __init__(
        self,
        reactor: IReactorFDSet,
        transports: Sequence[SpliceTransport],
        owner: PumpOwner,
        prefix: bytes = b"",
        pipes: PipePool | None = None,
        splice: Callable[[int, int, int, int], int] | None = None,
    ) -> None:
        """
        @param reactor: The reactor, which must provide L{IReactorTime} too
            for L{lastActivity}.
        @param transports: The two transports, connected, with nothing
            buffered for writing.
        @param owner: Told what happens.
        @param prefix: Bytes already read from side 0, sent to side 1 first.
        @param pipes: Where to take the pipes from and give them back to;
            by default, pipes of this pump's own, grown to
            L{PIPE_SIZE <txendpoints._relay._pipes.PIPE_SIZE>}.
        @param splice: L{os.splice}, or a stand-in for tests.
        """
        self.reactor = reactor
        self.transports = tuple(transports)
        self.owner = owner
        self.moved = [0, 0]
        self._clock = IReactorTime(reactor, None)
        self.lastActivity = self._now()
        self.running = False
        self._prefix = prefix
        self._pool = pipes if pipes is not None else PipePool(keep=0)
        self._splice = splice if splice is not None else _osSplice
        self._directions: list[_Direction] = []
        self._descriptors: list[_Descriptor] = []
        self._sockets: list[socket.socket] = []

    def _now(self) -> float:
        return self._clock.seconds() if self._clock is not None else 0.0

    def start(self) -> None:
        """
        Take the descriptors over and start moving bytes.

        @raise OSError: If the pipes cannot be opened; nothing was taken
            over then.
        """
        self._sockets = [t.getHandle() for t in self.transports]
        fds = [s.fileno() for s in self._sockets]
        pipes: list[Pipe] = []
        try:
            while len(pipes) < 2:
                pipes.append(self._pool.take())
        except OSError:
            for pipe in pipes:
                self._pool.give(pipe)
            raise
        self._directions = [
            _Direction(fds[0], fds[1], pipes[0], self._prefix),
            _Direction(fds[1], fds[0], pipes[1], b""),
        ]
        self._descriptors = [_Descriptor(self, i, fd) for i, fd in enumerate(fds)]
        for transport in self.transports:
            transport.stopReading()
            transport.stopWriting()
        self.running = True
        self.lastActivity = self._now()
        # Send the prefix at once; each side is read once it is readable.
        self._flush(0)
        self._update()

    def stop(self) -> None:
        """
        Stop moving bytes and give the descriptors back (unwatched); bytes
        in the pipes are dropped.  Do this before a transport is closed.
        """
        if not self.running:
            return
        self.running = False
        for descriptor in self._descriptors:
            if descriptor.reading:
                descriptor.reading = False
                self.reactor.removeReader(descriptor)
            if descriptor.writing:
                descriptor.writing = False
                self.reactor.removeWriter(descriptor)
        for d in self._directions:
            self._pool.give(d.pipe)

    def unsent(self) -> bytes:
        """@return: What is left of the prefix."""
        return bytes(self._directions[0].prefix) if self._directions else self._prefix

    def _readable(self, side: int) -> None:
        d = self._directions[side]
        for _ in range(ROUNDS):
            if not self.running or not d.wantsInput():
                break
            try:
                n = self._splice(
                    d.source, d.pipe.writeEnd, d.pipe.size - d.buffered, _FLAGS
                )
            except BlockingIOError:
                # Readable, yet nothing moved: the pipe has no free slot.
                # With nothing buffered it was a spurious wake-up instead.
                d.full = d.buffered > 0 and not self._pool.grow(d.pipe)
                break
            except OSError as e:
                self._failed(side, e)
                return
            if n == 0:
                d.ended = True
                self.owner.pumpInputEnded(side)
            else:
                d.buffered += n
                if d.buffered >= d.pipe.size and self._pool.grow(d.pipe):
                    # A stream, not a short exchange: worth a larger pipe.
                    d.full = False
                self.moved[side] += n
                self.lastActivity = self._now()
                self.owner.pumpMoved(side, n)
            if self.running and not self._flush(side):
                break
        self._update()

    def _writable(self, side: int) -> None:
        self._flush(1 - side)
        self._update()

    def _flush(self, direction: int) -> bool:
        """
        Send what direction C{direction} holds, then pass its end on.

        @return: Whether the sink took everything.
        """
        if not self.running:
            return False
        d = self._directions[direction]
        sinkSide = 1 - direction
        try:
            while len(d.prefix):
                d.prefix = d.prefix[os.write(d.sink, d.prefix) :]
            while d.buffered:
                n = self._splice(d.pipe.readEnd, d.sink, d.buffered, _FLAGS)
                d.buffered -= n
                d.full = False
        except BlockingIOError:
            return False
        except OSError as e:
            self._failed(sinkSide, e)
            return False
        if d.ended and not d.shut:
            d.shut = True
            try:
                self._sockets[sinkSide].shutdown(socket.SHUT_WR)
            except OSError as e:
                self._failed(sinkSide, e)
                return False
            if all(other.shut for other in self._directions):
                self.stop()
                self.owner.pumpFinished()
                return False
        return True

    def _update(self) -> None:
        """
        Watch each socket for what its directions need now.
        """
        if not self.running:
            return
        for side, descriptor in enumerate(self._descriptors):
            reading = self._directions[side].wantsInput()
            writing = self._directions[1 - side].pending()
            if reading != descriptor.reading:
                descriptor.reading = reading
                if reading:
                    self.reactor.addReader(descriptor)
                else:
                    self.reactor.removeReader(descriptor)
            if writing != descriptor.writing:
                descriptor.writing = writing
                if writing:
                    self.reactor.addWriter(descriptor)
                else:
                    self.reactor.removeWriter(descriptor)

    def _failed(self, side: int, error: OSError) -> None:
        if error.errno in REFUSED and not any(self.moved):
            unsent = self.unsent()
            self.stop()
            self.owner.pumpRefused(unsent, f"splice(2) refused: {error.strerror}")
            return
        lost = ConnectionLost(error.strerror or str(error))
        self._lost(side, Failure(lost))  # type: ignore[no-untyped-call]

    def _lost(self, side: int, reason: Failure) -> None:
        if not self.running:
            return
        self.stop()
        self.owner.pumpLost(side, reason)


def _osSplice(source: int, sink: int, count: int, flags: int) -> int:
    return os.splice(source, sink, count, flags=flags)
