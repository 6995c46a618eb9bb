"""
Tests for the standard-I/O endpoints in L{txendpoints._stdio._endpoints} and their
transport in L{txendpoints._stdio._transport}.

The descriptors are fakes (L{FakeReader}, L{FakeWriter}) standing in for
Twisted's C{ProcessReader} and C{ProcessWriter}, so that everything above
them, Twisted's C{StandardIO} included, runs for real.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.endpoints import clientFromString, serverFromString
from twisted.internet.error import (
    CannotListenError,
    ConnectError,
    ConnectingCancelledError,
    ConnectionAborted,
    ConnectionDone,
    NoProtocol,
)
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IListeningPort,
    IStreamClientEndpoint,
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.stdio import PipeAddress
from twisted.internet.testing import MemoryReactorClock
from twisted.plugin import getPlugins
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from txendpoints import (
    EndpointStringError,
    StandardIOClientEndpoint,
    StandardIOServerEndpoint,
    describe,
)
from txendpoints._stdio._transport import _StandardIO
from txendpoints._strings._parsers import stdioClient, stdioServer


class FakeWriter:
    """
    The stdout half: buffers writes until L{flush}, like a full pipe.
    """

    disconnected = False
    disconnecting = False

    def __init__(self, reactor: Any, proc: Any, name: str, fd: int) -> None:
        self.proc, self.name, self.fd = proc, name, fd
        self.buffer = b""
        self.written = b""
        self.dropped = b""
        self.producer: Any = None
        reactor.made.append(self)

    def write(self, data: bytes) -> None:
        if not self.disconnected:
            self.buffer += data

    def writeSequence(self, data: list[bytes]) -> None:
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        self.disconnecting = True

    def flush(self) -> None:
        """
        The reactor drains the buffer; a pending close completes.
        """
        self.written += self.buffer
        self.buffer = b""
        if self.disconnecting and not self.disconnected:
            self.connectionLost(Failure(ConnectionDone()))

    def connectionLost(self, reason: Failure) -> None:
        # As FileDescriptor.connectionLost: whatever is unsent is gone.
        self.disconnected = True
        self.dropped, self.buffer = self.buffer, b""
        self.proc.childConnectionLost(self.name, reason)

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None


class FakeReader:
    """
    The stdin half: the test feeds it data and end of input.
    """

    disconnected = False
    reading = False

    def __init__(self, reactor: Any, proc: Any, name: str, fd: int) -> None:
        self.proc, self.name, self.fd = proc, name, fd
        reactor.made.append(self)

    def startReading(self) -> None:
        self.reading = True

    def stopReading(self) -> None:
        self.reading = False

    pauseProducing = stopReading
    resumeProducing = startReading

    def receive(self, data: bytes) -> None:
        self.proc.childDataReceived(self.name, data)

    def end(self, reason: Failure | None = None) -> None:
        self.connectionLost(reason or Failure(ConnectionDone()))

    def connectionLost(self, reason: Failure) -> None:
        self.disconnected = True
        self.reading = False
        self.proc.childConnectionLost(self.name, reason)


class FakeStandardIO(_StandardIO):
    _readerFactory = FakeReader
    _writerFactory = FakeWriter


class BadDescriptor(FakeReader):
    def __init__(self, reactor: Any, proc: Any, name: str, fd: int) -> None:
        raise OSError(9, "Bad file descriptor")


class Recorder(Protocol):
    """
    Records what happens to it, in order, in C{events}.
    """

    def __init__(self, events: list[Any] | None = None) -> None:
        self.events: list[Any] = [] if events is None else events
        self.data = b""
        self.reasons: list[Failure] = []

    def connectionMade(self) -> None:
        self.events.append("made")

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure = ConnectionDone) -> None:  # type: ignore[assignment]
        self.events.append("lost")
        self.reasons.append(reason)


@implementer(IHalfCloseableProtocol)
class HalfCloser(Recorder):
    def readConnectionLost(self) -> None:
        self.events.append("readLost")

    def writeConnectionLost(self) -> None:
        self.events.append("writeLost")


class Reactor(MemoryReactorClock):
    """
    Records the fake descriptor halves built with it, in C{made}.
    """

    def __init__(self) -> None:
        super().__init__()
        self.made: list[Any] = []


class CountingFactory(Factory):
    protocol = Recorder

    def __init__(self, protocol: type[Recorder] = Recorder) -> None:
        self.protocol = protocol
        self.built: list[Any] = []
        self.stops = 0

    def buildProtocol(self, addr: Any) -> Any:
        self.built.append(addr)
        return super().buildProtocol(addr)

    def stopFactory(self) -> None:
        self.stops += 1


def serverFor(
    reactor: Reactor, stdin: int = 0, stdout: int = 1
) -> StandardIOServerEndpoint:
    endpoint = StandardIOServerEndpoint(reactor, stdin, stdout)
    endpoint._stdio = FakeStandardIO
    return endpoint


def clientFor(
    reactor: Reactor, stdin: int = 0, stdout: int = 1
) -> StandardIOClientEndpoint:
    endpoint = StandardIOClientEndpoint(reactor, stdin, stdout)
    endpoint._stdio = FakeStandardIO
    return endpoint


class ServerEndpointTests(SynchronousTestCase):
    """
    C{listen} connects one protocol and fires with a port that stops it.
    """

    def setUp(self) -> None:
        self.reactor = Reactor()
        self.factory = CountingFactory()

    def listen(self, endpoint: StandardIOServerEndpoint | None = None) -> Any:
        port: Any
        endpoint = endpoint or serverFor(self.reactor)
        port = self.successResultOf(endpoint.listen(self.factory))
        writer, reader = self.reactor.made[-2:]
        return port, port.transport.protocol, reader, writer

    def test_provides(self) -> None:
        self.assertTrue(
            verifyObject(IStreamServerEndpoint, StandardIOServerEndpoint(self.reactor))
        )
        port, _, _, _ = self.listen()
        self.assertTrue(verifyObject(IListeningPort, port))

    def test_listenConnects(self) -> None:
        """
        The protocol is built with a L{PipeAddress}, which the port's
        C{getHost} returns, and connected to the two descriptors.
        """
        port, protocol, reader, writer = self.listen(serverFor(self.reactor, 3, 4))
        self.assertIsInstance(self.factory.built[0], PipeAddress)
        self.assertIs(port.getHost(), self.factory.built[0])
        self.assertEqual(protocol.events, ["made"])
        self.assertIs(protocol.transport, port.transport)
        self.assertEqual((reader.fd, writer.fd), (3, 4))
        self.assertTrue(reader.reading)
        reader.receive(b"hello")
        self.assertEqual(protocol.data, b"hello")
        protocol.transport.write(b"out")
        writer.flush()
        self.assertEqual(writer.written, b"out")
        self.assertEqual(self.factory.numPorts, 1)

    def test_startListeningDoesNothing(self) -> None:
        port, protocol, reader, _ = self.listen()
        port.startListening()
        self.assertEqual(protocol.events, ["made"])
        self.assertTrue(reader.reading)

    def test_stopListening(self) -> None:
        """
        C{stopListening} stops reading and fires at once, as a TCP port's
        does, without waiting for output that nobody may ever read; the
        connection is closed once what was written is flushed.
        """
        port, protocol, reader, writer = self.listen()
        protocol.transport.write(b"last words")
        d = port.stopListening()
        self.assertIsNone(self.successResultOf(d))
        self.assertFalse(reader.reading)
        self.assertEqual(protocol.events, ["made"])
        writer.flush()
        self.assertEqual(protocol.events, ["made", "lost"])
        self.assertEqual(writer.written, b"last words")
        self.assertTrue(reader.disconnected)
        self.assertEqual(self.factory.stops, 1)
        self.assertEqual(self.factory.numPorts, 0)

    def test_abortDuringStopListening(self) -> None:
        """
        C{abortConnection} ends a connection whose output nobody reads at
        once, dropping what was not written, after C{stopListening} too.
        """
        port, protocol, reader, writer = self.listen()
        protocol.transport.write(b"never read")
        self.successResultOf(port.stopListening())
        self.assertEqual(protocol.events, ["made"])
        protocol.transport.abortConnection()
        self.assertEqual(protocol.events, ["made", "lost"])
        protocol.reasons[0].trap(ConnectionAborted)
        self.assertEqual((writer.written, writer.dropped), (b"", b"never read"))
        self.assertTrue(reader.disconnected)
        protocol.transport.abortConnection()
        self.assertEqual(protocol.events, ["made", "lost"])

    def test_stopListeningTwice(self) -> None:
        port, protocol, _, writer = self.listen()
        first, second = port.stopListening(), port.stopListening()
        writer.flush()
        self.successResultOf(first)
        self.successResultOf(second)
        self.successResultOf(port.stopListening())
        self.assertEqual(protocol.events, ["made", "lost"])

    def test_stopListeningAfterLost(self) -> None:
        port, protocol, reader, writer = self.listen()
        reader.end()
        writer.flush()
        self.assertEqual(protocol.events, ["made", "lost"])
        self.successResultOf(port.stopListening())

    def test_stopListeningAfterOutputClosed(self) -> None:
        """
        Once the output half is gone there is nothing to flush, and
        C{stopListening} still ends the connection (Twisted's
        C{loseConnection} would wait for a writer that no longer exists).
        """
        self.factory = CountingFactory(HalfCloser)
        port, protocol, reader, writer = self.listen()
        protocol.transport.loseWriteConnection()
        writer.flush()
        self.assertEqual(protocol.events, ["made", "writeLost"])
        self.successResultOf(port.stopListening())
        self.assertEqual(protocol.events, ["made", "writeLost", "lost"])
        self.assertTrue(reader.disconnected)

    def test_listenTwice(self) -> None:
        """
        A second C{listen} on a descriptor of a live connection fails with
        L{CannotListenError}; once that connection is over, it succeeds.
        """
        port, _, _, writer = self.listen()
        for stdin, stdout in [(0, 1), (0, 5), (5, 1)]:
            failure = self.failureResultOf(
                serverFor(self.reactor, stdin, stdout).listen(self.factory),
                CannotListenError,
            )
            self.assertIn("is in use by another standard-I/O", str(failure.value))
        self.assertEqual(len(self.reactor.made), 2)
        self.successResultOf(serverFor(self.reactor, 3, 4).listen(self.factory))
        port.stopListening()
        writer.flush()
        self.successResultOf(serverFor(self.reactor).listen(self.factory))

    def test_plainObjectReactor(self) -> None:
        """
        A reactor that cannot be weakly referenced still has its
        descriptors tracked.
        """
        reactor: Any = type("Slotted", (), {"__slots__": ("made",)})()
        reactor.made = []
        self.successResultOf(serverFor(reactor).listen(self.factory))
        self.failureResultOf(serverFor(reactor).listen(self.factory), CannotListenError)

    def test_otherReactorIndependent(self) -> None:
        self.listen()
        self.successResultOf(serverFor(Reactor()).listen(self.factory))

    def test_sameDescriptorTwice(self) -> None:
        failure = self.failureResultOf(
            serverFor(self.reactor, 3, 3).listen(self.factory), CannotListenError
        )
        self.assertEqual(
            str(failure.value),
            "Couldn't listen on stdin=3:stdout=3: stdin and stdout are both file "
            "descriptor 3; a reactor cannot watch one descriptor with two readers.",
        )
        self.assertEqual(self.reactor.made, [])

    def test_noProtocol(self) -> None:
        """
        A factory that builds no protocol fails the listen and leaves the
        descriptors free.
        """
        self.factory.buildProtocol = lambda addr: None  # type: ignore[method-assign]
        failure = self.failureResultOf(
            serverFor(self.reactor).listen(self.factory), CannotListenError
        )
        self.assertIsInstance(failure.value.socketError, NoProtocol)
        self.assertEqual(self.reactor.made, [])
        self.assertEqual(self.factory.numPorts, 0)
        del self.factory.buildProtocol
        self.listen()

    def test_badDescriptor(self) -> None:
        """
        A descriptor that cannot be used fails the listen; the half already
        set up is released without the protocol hearing of it.
        """
        endpoint = serverFor(self.reactor)
        endpoint._stdio = type(
            "Bad", (FakeStandardIO,), {"_readerFactory": BadDescriptor}
        )
        failure = self.failureResultOf(endpoint.listen(self.factory), CannotListenError)
        self.assertIsInstance(failure.value.socketError, OSError)
        [writer] = self.reactor.made
        self.assertTrue(writer.disconnected)
        self.assertEqual(self.factory.stops, 1)
        self.listen()

    def test_connectionMadeRaises(self) -> None:
        """
        When C{connectionMade} raises, the listen fails with that error, the
        protocol is disconnected and the descriptors are released.
        """
        events: list[Any] = []

        class Broken(Recorder):
            def __init__(self) -> None:
                super().__init__(events)

            def connectionMade(self) -> None:
                super().connectionMade()
                raise ZeroDivisionError()

        self.factory = CountingFactory(Broken)
        self.failureResultOf(
            serverFor(self.reactor).listen(self.factory), ZeroDivisionError
        )
        reader, writer = self.reactor.made[::-1]
        self.assertTrue(reader.disconnected and writer.disconnected)
        self.assertEqual(self.factory.numPorts, 0)
        self.assertEqual(events, ["made", "lost"])
        self.factory = CountingFactory()
        self.listen()

    def test_repr(self) -> None:
        endpoint = StandardIOServerEndpoint(self.reactor, stdin=3)
        self.assertEqual(repr(endpoint), "<StandardIOServerEndpoint tx-stdio:stdin=3>")
        self.assertEqual(describe(StandardIOServerEndpoint(self.reactor)), "tx-stdio")
        self.assertEqual(endpoint, StandardIOServerEndpoint(self.reactor, 3, 1))
        self.assertNotEqual(endpoint, StandardIOServerEndpoint(self.reactor, 3, 2))
        port, _, _, writer = self.listen()
        self.assertEqual(repr(port), "<StandardIO port (open)>")
        port.stopListening()
        writer.flush()
        self.assertEqual(repr(port), "<StandardIO port (closed)>")


class ClientEndpointTests(SynchronousTestCase):
    """
    C{connect} connects on the next reactor turn and fires with the
    protocol.
    """

    def setUp(self) -> None:
        self.reactor = Reactor()
        self.factory = CountingFactory()

    def test_provides(self) -> None:
        self.assertTrue(
            verifyObject(IStreamClientEndpoint, StandardIOClientEndpoint(self.reactor))
        )

    def test_connect(self) -> None:
        d = clientFor(self.reactor, 5, 6).connect(self.factory)
        self.assertNoResult(d)
        self.assertEqual(self.reactor.made, [])
        self.reactor.advance(0)
        protocol: Any = self.successResultOf(d)
        self.assertEqual(protocol.events, ["made"])
        writer, reader = self.reactor.made
        self.assertEqual((reader.fd, writer.fd), (5, 6))
        self.assertIsInstance(self.factory.built[0], PipeAddress)
        protocol.transport.loseConnection()
        writer.flush()
        self.assertEqual(protocol.events, ["made", "lost"])
        self.assertEqual(self.factory.stops, 1)

    def test_cancel(self) -> None:
        """
        Cancelling before the connection is made leaves the descriptors and
        the factory untouched.
        """
        d = clientFor(self.reactor).connect(self.factory)
        d.cancel()
        failure = self.failureResultOf(d, ConnectingCancelledError)
        self.assertIsInstance(failure.value.address, PipeAddress)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.reactor.advance(1)
        self.assertEqual(self.reactor.made, [])
        self.assertEqual((self.factory.built, self.factory.numPorts), ([], 0))

    def test_cancelAfterConnect(self) -> None:
        d = clientFor(self.reactor).connect(self.factory)
        self.reactor.advance(0)
        d.cancel()
        protocol: Any = self.successResultOf(d)
        self.assertEqual(protocol.events, ["made"])

    def test_inUse(self) -> None:
        self.successResultOf(serverFor(self.reactor).listen(self.factory))
        d = clientFor(self.reactor, 0, 3).connect(self.factory)
        self.reactor.advance(0)
        failure = self.failureResultOf(d, ConnectError)
        self.assertEqual(
            str(failure.value),
            "An error occurred while connecting: stdin=0, stdout=3: file "
            "descriptor 0 is in use by another standard-I/O connection.",
        )

    def test_noProtocol(self) -> None:
        self.factory.buildProtocol = lambda addr: None  # type: ignore[method-assign]
        d = clientFor(self.reactor).connect(self.factory)
        self.reactor.advance(0)
        self.failureResultOf(d, NoProtocol)
        self.assertEqual(self.reactor.made, [])

    def test_badDescriptor(self) -> None:
        endpoint = clientFor(self.reactor)
        endpoint._stdio = type(
            "Bad", (FakeStandardIO,), {"_readerFactory": BadDescriptor}
        )
        d = endpoint.connect(self.factory)
        self.reactor.advance(0)
        failure = self.failureResultOf(d, ConnectError)
        self.assertIn("Bad file descriptor", str(failure.value))

    def test_repr(self) -> None:
        endpoint = StandardIOClientEndpoint(self.reactor, 0, 7)
        self.assertEqual(repr(endpoint), "<StandardIOClientEndpoint tx-stdio:stdout=7>")
        self.assertEqual(describe(endpoint), "tx-stdio:stdout=7")


class StringTests(SynchronousTestCase):
    """
    The C{tx-stdio} prefix in both directions.
    """

    def setUp(self) -> None:
        self.reactor = Reactor()

    def test_plugins(self) -> None:
        self.assertTrue(verifyObject(IStreamServerEndpointStringParser, stdioServer))
        self.assertTrue(
            verifyObject(IStreamClientEndpointStringParserWithReactor, stdioClient)
        )
        self.assertIn(stdioServer, list(getPlugins(IStreamServerEndpointStringParser)))
        self.assertIn(
            stdioClient,
            list(getPlugins(IStreamClientEndpointStringParserWithReactor)),
        )
        self.assertEqual(repr(stdioClient), "<ClientParser tx-stdio>")

    def test_server(self) -> None:
        self.assertEqual(
            serverFromString(self.reactor, "tx-stdio"),
            StandardIOServerEndpoint(self.reactor),
        )
        self.assertEqual(
            serverFromString(self.reactor, "tx-stdio:stdin=3:stdout=4"),
            StandardIOServerEndpoint(self.reactor, 3, 4),
        )

    def test_client(self) -> None:
        self.assertEqual(
            clientFromString(self.reactor, "tx-stdio:stdout=2"),
            StandardIOClientEndpoint(self.reactor, 0, 2),
        )

    def test_roundTrip(self) -> None:
        for text in ["tx-stdio", "tx-stdio:stdin=3", "tx-stdio:stdin=1:stdout=0"]:
            self.assertEqual(describe(serverFromString(self.reactor, text)), text)
            self.assertEqual(describe(clientFromString(self.reactor, text)), text)

    def assertStringError(self, text: str, message: str) -> None:
        for parse in (serverFromString, clientFromString):
            with self.assertRaises(EndpointStringError) as e:
                parse(self.reactor, text)
            self.assertEqual(str(e.exception), message)

    def test_positional(self) -> None:
        self.assertStringError(
            "tx-stdio:0",
            "tx-stdio: unexpected positional argument(s) '0'; it takes none; "
            "give every option as name=value",
        )

    def test_badDescriptor(self) -> None:
        self.assertStringError(
            "tx-stdio:stdin=-1",
            "tx-stdio: stdin '-1' is not a file descriptor number (0 or more)",
        )
        self.assertStringError(
            "tx-stdio:stdout=out",
            "tx-stdio: stdout 'out' is not a file descriptor number (0 or more)",
        )

    def test_misspelt(self) -> None:
        self.assertStringError(
            "tx-stdio:stdn=3",
            "tx-stdio: option 'stdn' is unknown; did you mean 'stdin'?",
        )

    def test_sameDescriptor(self) -> None:
        self.assertStringError(
            "tx-stdio:stdin=1",
            "tx-stdio: stdin and stdout are both 1; they must be different file "
            "descriptors",
        )
