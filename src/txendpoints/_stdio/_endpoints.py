# Twisted's error module is unannotated; every exception we raise from it
# would otherwise need its own ignore.
# mypy: disallow-untyped-calls=False
"""
Standard-I/O endpoints: the process's stdin and stdout as one connection.

The transport is L{txendpoints._stdio._transport._StandardIO}, Twisted's
C{StandardIO} with its endpoint-facing gaps filled; this module adds the
listening port, the client, and the rule that one descriptor serves one
connection at a time.

It may import L{txendpoints._stdio._transport}, L{txendpoints._settings}
and L{txendpoints._errors}.
"""

from __future__ import annotations

from collections.abc import Callable
from weakref import WeakKeyDictionary

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    CannotListenError,
    ConnectError,
    ConnectingCancelledError,
    NoProtocol,
)
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorFDSet,
    IReactorTime,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from zope.interface import implementer

from .._settings import Configured, StdioClientSettings, StdioServerSettings
from ._transport import PipeAddress, _StandardIO

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
        Start closing the connection, flushing what was written, and fire
        at once.

        A TCP port's C{stopListening} does not wait for its connections
        either, and this one must not: under
        L{StreamServerEndpointService<twisted.application.internet.StreamServerEndpointService>}
        (twistd, C{twist --listen}) shutdown waits for it, and output that
        nobody reads would then keep the process from ever stopping.  The
        flush goes on while the reactor runs; what is still unwritten when
        it stops is dropped, as a TCP connection's buffer is.  Whoever must
        know when the connection is over hears it from the protocol's
        C{connectionLost}.

        @return: A L{Deferred} that has already fired with L{None}.
        """
        self.transport.loseConnection()
        return defer.succeed(None)

    def getHost(self) -> IAddress:
        """
        @return: The C{PipeAddress} the protocol was built with.
        """
        return self._address

    def __repr__(self) -> str:
        state = "closed" if self.transport.disconnected else "open"
        return f"<StandardIO port ({state})>"


class _StandardIOEndpoint(Configured):
    _Settings: type[StdioServerSettings]
    _settings: StdioServerSettings
    _stdio: Callable[..., _StandardIO] = _StandardIO

    def __init__(self, reactor: IReactorFDSet, stdin: int = 0, stdout: int = 1) -> None:
        """
        @param reactor: The reactor to watch the descriptors with.
        @param stdin: The descriptor to read from.
        @param stdout: The descriptor to write to.
        """
        self._reactor = reactor
        self._settings = self._Settings(stdin, stdout)

    @property
    def _stdin(self) -> int:
        return self._settings.stdin

    @property
    def _stdout(self) -> int:
        return self._settings.stdout


@implementer(IStreamServerEndpoint)
class StandardIOServerEndpoint(_StandardIOEndpoint):
    """
    The process's standard input and output as a listening port with one
    connection; a drop-in for Twisted's C{StandardIOEndpoint}, string prefix
    C{tx-stdio}.

    C{StandardIOServerEndpoint(reactor, stdin=0, stdout=1)}:

    @param reactor: The reactor to watch the descriptors with (an
        L{IReactorFDSet<twisted.internet.interfaces.IReactorFDSet>}).
    @param stdin: The descriptor to read from (default 0).
    @param stdout: The descriptor to write to (default 1).
    """

    _Settings = StdioServerSettings

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Build a protocol and connect it to the descriptors.

        @param protocolFactory: Builds the protocol, with a
            L{PipeAddress<twisted.internet._posixstdio.PipeAddress>}.
        @return: A L{Deferred<twisted.internet.defer.Deferred>} that fires
            with an L{IListeningPort<twisted.internet.interfaces.IListeningPort>}
            whose C{stopListening} starts closing the connection and fires
            at once, or fails with
            L{CannotListenError<twisted.internet.error.CannotListenError>} if
            the descriptors are in use or unusable
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

    C{StandardIOClientEndpoint(reactor, stdin=0, stdout=1)}:

    @param reactor: The reactor to watch the descriptors with (an
        L{IReactorFDSet<twisted.internet.interfaces.IReactorFDSet>}).
    @param stdin: The descriptor to read from (default 0).
    @param stdout: The descriptor to write to (default 1).
    """

    _Settings = StdioClientSettings

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Build a protocol and connect it to the descriptors on the next
        reactor turn, so that the caller may still cancel.

        @param protocolFactory: Builds the protocol, with a
            L{PipeAddress<twisted.internet._posixstdio.PipeAddress>}.
        @return: A L{Deferred<twisted.internet.defer.Deferred>} that fires
            with the connected protocol, or fails with
            L{ConnectError<twisted.internet.error.ConnectError>} if the
            descriptors are in use or unusable,
            L{NoProtocol<twisted.internet.error.NoProtocol>} if the factory
            builds none, or
            L{ConnectingCancelledError<twisted.internet.error.ConnectingCancelledError>}
            if cancelled first (the descriptors are then left untouched).
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
