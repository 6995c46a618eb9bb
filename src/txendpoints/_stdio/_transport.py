# Twisted's stdio and process modules are unannotated; every call into
# them would otherwise need its own ignore.
# mypy: disallow-untyped-calls=False
"""
The transport of the standard-I/O endpoints: Twisted's
L{twisted.internet.stdio.StandardIO}, with what it gets wrong for an
endpoint put right.

L{_StandardIO} tells its owner when the protocol has seen
C{connectionLost}, flushes written data before a non-half-closeable protocol
is disconnected at end of input, always ends in C{connectionLost} once both
halves are gone, puts each descriptor back in the blocking mode it found
it in (on a terminal, where both are one open file description, once both
halves are gone), and on C{loseWriteConnection} lets go of the output descriptor so
that its reader sees end of file.

It may import only Twisted and the standard library.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from typing import Any

# The POSIX module by name, its only import in this package: we subclass
# the POSIX StandardIO (fcntl and pipe readers below are POSIX too), and
# through the public twisted.internet.stdio type checkers see the Windows
# classes.  PipeAddress is re-exported for the endpoints.
from twisted.internet._posixstdio import PipeAddress as PipeAddress
from twisted.internet._posixstdio import StandardIO
from twisted.internet.abstract import FileDescriptor
from twisted.internet.error import ConnectionAborted, ConnectionDone
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IProtocol,
    IReactorFDSet,
)
from twisted.internet.process import ProcessReader, ProcessWriter
from twisted.python.failure import Failure


class _Modes:
    """
    The blocking mode each descriptor was found in, put back once nothing
    here uses it.

    O_NONBLOCK belongs to the open file description, which a terminal or
    pipe shares with the parent shell and siblings; Twisted leaves stdin
    non-blocking for good, which breaks whoever reads it next.  On a
    terminal, stdin and stdout are one description: both modes are read
    before either half makes it non-blocking, and neither is put back while
    the other half still runs on it.  Descriptors of one file (same device
    and inode) are taken to share a description, since nothing portable
    tells whether they do.

    @ivar found: Whether each descriptor was non-blocking, by descriptor;
        one that could not be read is left out.
    """

    def __init__(self, *fds: int) -> None:
        """
        Read the mode of each of C{fds} now.

        @param fds: The descriptors.
        """
        self.found: dict[int, bool] = {}
        self._files: dict[int, tuple[int, int]] = {}
        for fd in fds:
            try:
                flags = fcntl.fcntl(fd, fcntl.F_GETFL)
                info = os.fstat(fd)
            except OSError:
                continue
            self.found[fd] = bool(flags & os.O_NONBLOCK)
            self._files[fd] = (info.st_dev, info.st_ino)
        self._live = set(self.found)

    def lost(self, fd: int) -> None:
        """
        Note that the half on C{fd} is gone; put back the mode of its file
        once no half uses that file.

        @param fd: The descriptor of the half that is gone.
        """
        self._live.discard(fd)
        same = [f for f in self.found if self._files[f] == self._files.get(fd)]
        if not any(f in self._live for f in same):
            for f in same:
                self._restore(f)

    def restoreAll(self) -> None:
        """
        Put back every mode, whatever still uses the descriptors: after a
        set-up that failed part way.
        """
        self._live.clear()
        for fd in self.found:
            self._restore(fd)

    def _restore(self, fd: int) -> None:
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            wanted = (
                (flags | os.O_NONBLOCK) if self.found[fd] else (flags & ~os.O_NONBLOCK)
            )
            if wanted != flags:
                fcntl.fcntl(fd, fcntl.F_SETFL, wanted)
        except OSError:
            # Already closed by its owner: there is no mode left to restore.
            pass


def _modesOf(proc: Any) -> _Modes | None:
    modes: _Modes | None = getattr(proc, "_modes", None)
    return modes


class _Reader(ProcessReader):
    def connectionLost(self, reason: Failure) -> None:
        # The mode must be back before the protocol hears, as its
        # connectionLost may well close the descriptor.
        modes = _modesOf(self.proc)
        if modes is not None:
            modes.lost(self.fd)
        super().connectionLost(reason)


class _Writer(ProcessWriter):
    #: Whether to let go of the descriptor when this half is lost: set when
    #: the protocol closes its output, which only the reader at the other
    #: end can notice, and only once nothing in this process holds the
    #: descriptor open.
    release = False

    def connectionLost(self, reason: Failure) -> None:
        # ProcessWriter.connectionLost less its unconditional setBlocking,
        # which on a terminal would make the reader's descriptor blocking
        # too; the mode is back before the descriptor is released and
        # before the protocol hears.
        FileDescriptor.connectionLost(self, reason)
        modes = _modesOf(self.proc)
        if modes is not None:
            modes.lost(self.fd)
        if self.release:
            self._release()
        self.proc.childConnectionLost(self.name, reason)

    def _release(self) -> None:
        # Point the descriptor at /dev/null rather than close it: its
        # number stays taken, so a later socket cannot get it and receive
        # what this process still prints to sys.stdout.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
        except OSError:
            return
        try:
            os.dup2(devnull, self.fd)
        except OSError:
            pass
        finally:
            os.close(devnull)


class _StandardIO(StandardIO):
    """
    L{StandardIO} that reports its end and never drops written data.

    @cvar _readerFactory: Builds the stdin half, as L{ProcessReader}.
    @cvar _writerFactory: Builds the stdout half, as L{ProcessWriter}.
    """

    _readerFactory: Callable[..., Any] = _Reader
    _writerFactory: Callable[..., Any] = _Writer
    _readReason: Failure | None = None
    _writeRequested = False

    def __init__(
        self, proto: IProtocol, stdin: int, stdout: int, reactor: IReactorFDSet
    ) -> None:
        """
        Connect C{proto} to the two descriptors.  Unlike L{StandardIO}, a
        failure part way (a closed descriptor, C{connectionMade} raising)
        releases whatever was already set up before it propagates.

        @param proto: The connected protocol.
        @param stdin: The descriptor to read.
        @param stdout: The descriptor to write.
        @param reactor: The reactor to register them with.
        """
        self.protocol = proto
        self._observers: list[Callable[[], None]] = []
        self._madeConnection = False
        # Before either half is built: each makes its descriptor, and on a
        # terminal the other one too, non-blocking.
        self._modes = _Modes(stdin, stdout)
        try:
            self._writer = self._writerFactory(reactor, self, "write", stdout)
            self._reader = self._readerFactory(reactor, self, "read", stdin)
            self._reader.startReading()
            self._madeConnection = True
            proto.makeConnection(self)
        except BaseException:
            self.connectionLost(Failure())
            raise

    def notifyLost(self, observer: Callable[[], None]) -> None:
        """
        Call C{observer} once the protocol has seen C{connectionLost}
        (at once if it already has).

        @param observer: Called with no arguments.
        """
        if self.disconnected:
            observer()
        else:
            self._observers.append(observer)

    def loseConnection(self) -> None:
        if self.disconnected:
            return
        super().loseConnection()
        if self._writer is None:
            # Nothing to flush, so no writer callback will ever finish the job.
            self.connectionLost(self._readReason or Failure(ConnectionDone()))

    def abortConnection(self) -> None:
        """
        Close the connection at once, dropping whatever has not been
        written: for output that nobody reads, which C{loseConnection}
        would wait on for ever.
        """
        if self.disconnected:
            return
        self.disconnecting = True
        self.connectionLost(Failure(ConnectionAborted()))

    def loseWriteConnection(self) -> None:
        self._writeRequested = True
        writer: _Writer | None = self._writer  # type: ignore[assignment]
        if writer is not None:
            writer.release = True
        super().loseWriteConnection()

    def _readConnectionLost(self, reason: Failure) -> None:
        self._readReason = reason
        if IHalfCloseableProtocol(self.protocol, None) is not None:
            super()._readConnectionLost(reason)
            if self._writer is None and not self.disconnected:
                self.connectionLost(reason)
            return
        # Twisted would disconnect now and drop what the protocol wrote in
        # answer to its last input; flush it first, as TCP does.
        self._reader = None
        self.loseConnection()

    def _writeConnectionLost(self, reason: Failure) -> None:
        halfCloseable = IHalfCloseableProtocol(self.protocol, None) is not None
        if (
            self.disconnecting
            or self._reader is None
            or not (halfCloseable or self._writeRequested)
        ):
            # Both halves gone, or output lost under a protocol that cannot
            # be told about half a connection: the connection is over.
            self._writer = None
            if self._readReason is not None and reason.check(ConnectionDone):
                # A clean close of the output says less than how input ended.
                reason = self._readReason
            self.connectionLost(reason)
            return
        super()._writeConnectionLost(reason)

    def connectionLost(self, reason: Failure) -> None:
        if self.disconnected:
            return
        if not self._madeConnection:
            # Set-up failed before the protocol was connected: release the
            # halves quietly; the protocol never heard of this connection.
            self.disconnected = True
            for half in (self._writer, self._reader):
                if half is not None:
                    half.connectionLost(reason)
            self._reader = self._writer = None
            # A half that failed part way may have set its mode already.
            self._modes.restoreAll()
            return
        super().connectionLost(reason)
        observers, self._observers = self._observers, []
        for observer in observers:
            observer()
