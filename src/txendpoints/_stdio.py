# Twisted's stdio, process and error modules are unannotated; every call into
# them would otherwise need its own ignore.
# mypy: disallow-untyped-calls=False
"""
Standard-I/O endpoints: the process's stdin and stdout as one connection.

Built on Twisted's L{twisted.internet.stdio.StandardIO}; L{_StandardIO}
changes only what Twisted gets wrong for an endpoint: it tells us when the
protocol has seen C{connectionLost}, flushes written data before a
non-half-closeable protocol is disconnected at end of input, always ends in
C{connectionLost} once both halves are gone, and puts each descriptor back
in the blocking mode it found it in.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from twisted.internet import defer

# The POSIX module by name: we subclass the POSIX StandardIO (fcntl and pipe
# readers below are POSIX too), and through twisted.internet.stdio type
# checkers see the Windows class.
from twisted.internet._posixstdio import PipeAddress, StandardIO
from twisted.internet.abstract import FileDescriptor
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    CannotListenError,
    ConnectError,
    ConnectingCancelledError,
    ConnectionDone,
    NoProtocol,
)
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableProtocol,
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorFDSet,
    IReactorTime,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from twisted.internet.process import ProcessReader, ProcessWriter
from twisted.python.failure import Failure
from zope.interface import implementer

from ._options import STDIO_CLIENT, STDIO_SERVER, Described, EndpointStringError, Spec


class _RestoresMode:
    """
    Mixin for Twisted's pipe reader and writer: remember whether the
    descriptor was non-blocking and put that back when the half is lost.

    O_NONBLOCK belongs to the open file description, which a terminal or
    pipe shares with the parent shell and siblings; Twisted leaves stdin
    non-blocking for good, which breaks whoever reads it next.
    """

    fd: int

    def _rememberMode(self, fd: int) -> None:
        self._wasNonBlocking = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)

    def _restoreMode(self) -> None:
        try:
            flags = fcntl.fcntl(self.fd, fcntl.F_GETFL)
            wanted = (
                (flags | os.O_NONBLOCK)
                if self._wasNonBlocking
                else (flags & ~os.O_NONBLOCK)
            )
            if wanted != flags:
                fcntl.fcntl(self.fd, fcntl.F_SETFL, wanted)
        except OSError:
            # Already closed by its owner: there is no mode left to restore.
            pass


class _Reader(_RestoresMode, ProcessReader):
    def __init__(self, reactor: Any, proc: Any, name: str, fileno: int) -> None:
        self._rememberMode(fileno)
        super().__init__(reactor, proc, name, fileno)

    def connectionLost(self, reason: Failure) -> None:
        self._restoreMode()
        super().connectionLost(reason)


class _Writer(_RestoresMode, ProcessWriter):
    def __init__(self, reactor: Any, proc: Any, name: str, fileno: int) -> None:
        self._rememberMode(fileno)
        super().__init__(reactor, proc, name, fileno)

    def connectionLost(self, reason: Failure) -> None:
        # ProcessWriter.connectionLost less its unconditional setBlocking:
        # the mode must be back before the protocol hears, as its
        # connectionLost may well close the descriptor.
        FileDescriptor.connectionLost(self, reason)
        self._restoreMode()
        self.proc.childConnectionLost(self.name, reason)


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

    def loseWriteConnection(self) -> None:
        self._writeRequested = True
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
            return
        super().connectionLost(reason)
        observers, self._observers = self._observers, []
        for observer in observers:
            observer()


# Which descriptors are in use by a live standard-I/O connection, per
# reactor: a second reader registered on the same descriptor would steal
# half the input.  A reactor that cannot be weakly referenced keeps its
# entry for the life of the process.
_inUse: WeakKeyDictionary[object, set[int]] = WeakKeyDictionary()
_inUseStrong: dict[int, tuple[object, set[int]]] = {}


def _claimed(reactor: object) -> set[int]:
    try:
        return _inUse.setdefault(reactor, set())
    except TypeError:
        return _inUseStrong.setdefault(id(reactor), (reactor, set()))[1]


def _claim(reactor: object, stdin: int, stdout: int) -> Callable[[], None]:
    """
    Claim both descriptors for one connection.

    @return: A function that releases them.
    @raise ValueError: If they are the same or one is already claimed; the
        message says which.
    """
    if stdin == stdout:
        raise ValueError(
            f"stdin and stdout are both file descriptor {stdin}; a reactor "
            "cannot watch one descriptor with two readers"
        )
    claimed = _claimed(reactor)
    for fd in (stdin, stdout):
        if fd in claimed:
            raise ValueError(
                f"file descriptor {fd} is in use by another standard-I/O connection"
            )
    claimed.update((stdin, stdout))
    return lambda: claimed.difference_update((stdin, stdout))


def _connect(
    reactor: IReactorFDSet,
    factory: IProtocolFactory,
    stdio: Callable[..., _StandardIO],
    stdin: int,
    stdout: int,
) -> tuple[_StandardIO, PipeAddress]:
    """
    Build a protocol with C{factory} and connect it to the descriptors.

    @return: The transport and the address the protocol was built with.
    @raise ValueError: If the descriptors cannot be claimed.
    @raise NoProtocol: If C{factory} builds no protocol.
    @raise BaseException: Whatever building or connecting raised.
    """
    release = _claim(reactor, stdin, stdout)
    factory.doStart()

    def done() -> None:
        release()
        factory.doStop()

    try:
        address = PipeAddress()
        protocol = factory.buildProtocol(address)
        if protocol is None:
            raise NoProtocol()
        transport = stdio(protocol, stdin, stdout, reactor)
    except BaseException:
        done()
        raise
    transport.notifyLost(done)
    return transport, address


@implementer(IListeningPort)
class _StandardIOPort:
    """
    The port of a L{StandardIOServerEndpoint}: its one connection.

    @ivar transport: The connection's transport.
    """

    def __init__(self, transport: _StandardIO, address: PipeAddress) -> None:
        self.transport = transport
        self._address = address

    def startListening(self) -> None:
        """
        Do nothing: the port listens from the moment C{listen} fires.
        """

    def stopListening(self) -> Deferred[None]:
        """
        Close the connection, flushing what was written.

        @return: A L{Deferred} that fires once the protocol has seen
            C{connectionLost}.
        """
        stopped: Deferred[None] = Deferred()
        self.transport.notifyLost(lambda: stopped.callback(None))
        self.transport.loseConnection()
        return stopped

    def getHost(self) -> IAddress:
        """
        @return: The L{PipeAddress} the protocol was built with.
        """
        return self._address

    def __repr__(self) -> str:
        state = "closed" if self.transport.disconnected else "open"
        return f"<StandardIO port ({state})>"


class _StandardIOEndpoint(Described):
    _spec: Spec
    _stdio: Callable[..., _StandardIO] = _StandardIO

    def __init__(self, reactor: IReactorFDSet, stdin: int = 0, stdout: int = 1) -> None:
        """
        @param reactor: The reactor to watch the descriptors with.
        @param stdin: The descriptor to read from.
        @param stdout: The descriptor to write to.
        """
        self._reactor = reactor
        self._stdin = stdin
        self._stdout = stdout

    def _optionValues(self) -> dict[str, Any]:
        return {"stdin": self._stdin, "stdout": self._stdout}


@implementer(IStreamServerEndpoint)
class StandardIOServerEndpoint(_StandardIOEndpoint):
    """
    The process's standard input and output as a listening port with one
    connection; a drop-in for Twisted's C{StandardIOEndpoint}, string prefix
    C{tx-stdio}.
    """

    _spec = STDIO_SERVER

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Build a protocol and connect it to the descriptors.

        @param protocolFactory: Builds the protocol, with a L{PipeAddress}.
        @return: A L{Deferred} that fires with an L{IListeningPort} whose
            C{stopListening} closes the connection, or fails with
            L{CannotListenError} if the descriptors are in use or unusable
            or the factory builds no protocol (or with whatever the
            protocol's C{connectionMade} raised).
        """
        try:
            transport, address = _connect(
                self._reactor, protocolFactory, self._stdio, self._stdin, self._stdout
            )
        except (ValueError, OSError, NoProtocol) as e:
            return defer.fail(
                CannotListenError(f"stdin={self._stdin}", f"stdout={self._stdout}", e)
            )
        except BaseException:
            return defer.fail()
        return defer.succeed(_StandardIOPort(transport, address))


@implementer(IStreamClientEndpoint)
class StandardIOClientEndpoint(_StandardIOEndpoint):
    """
    The process's standard input and output as a client connection,
    string prefix C{tx-stdio}.
    """

    _spec = STDIO_CLIENT

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Build a protocol and connect it to the descriptors on the next
        reactor turn, so that the caller may still cancel.

        @param protocolFactory: Builds the protocol, with a L{PipeAddress}.
        @return: A L{Deferred} that fires with the connected protocol, or
            fails with L{ConnectError} if the descriptors are in use or
            unusable, L{NoProtocol} if the factory builds none, or
            L{ConnectingCancelledError} if cancelled first (the descriptors
            are then left untouched).
        """
        delayed: list[IDelayedCall] = []

        def cancel(d: Deferred[IProtocol]) -> None:
            delayed[0].cancel()
            d.errback(ConnectingCancelledError(PipeAddress()))

        connected: Deferred[IProtocol] = Deferred(cancel)

        def attempt() -> None:
            try:
                transport, _ = _connect(
                    self._reactor,
                    protocolFactory,
                    self._stdio,
                    self._stdin,
                    self._stdout,
                )
            except (ValueError, OSError) as e:
                connected.errback(
                    ConnectError(
                        string=f"stdin={self._stdin}, stdout={self._stdout}: {e}"
                    )
                )
            except BaseException:
                connected.errback()
            else:
                connected.callback(transport.protocol)

        clock: IReactorTime = self._reactor  # type: ignore[assignment]
        delayed.append(clock.callLater(0, attempt))
        return connected


def _checked(
    spec: Spec, endpoint: Callable[..., _StandardIOEndpoint]
) -> Callable[..., Any]:
    def build(reactor: Any, stdin: int, stdout: int) -> _StandardIOEndpoint:
        if stdin == stdout:
            raise EndpointStringError(
                spec.prefix,
                f"stdin and stdout are both {stdin}; they must be different "
                "file descriptors",
                option="stdout",
                value=str(stdout),
            )
        return endpoint(reactor, stdin, stdout)

    return build


#: Parser build functions: the endpoints, refusing one descriptor for both.
buildServer = _checked(STDIO_SERVER, StandardIOServerEndpoint)
buildClient = _checked(STDIO_CLIENT, StandardIOClientEndpoint)
