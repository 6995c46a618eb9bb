"""
Tests for L{txendpoints._relay._relay} and L{txendpoints._relay._service}, in memory.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectingCancelledError,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import IStreamClientEndpoint, IStreamServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import (
    MemoryReactorClock,
    StringTransportWithDisconnection,
)
from twisted.logger import LogLevel, capturedLogs, formatEvent
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints._relay._factory import RelayFactory
from txendpoints._relay._relay import EARLY_LIMIT

PEER = IPv4Address("TCP", "192.0.2.7", 5555)


class HalfClosingTransport(StringTransportWithDisconnection):
    """
    A L{StringTransport} that records half-closes and tells its protocol
    when it is closed.
    """

    writeClosed = False
    aborted = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True

    def abortConnection(self) -> None:
        self.aborted = True
        self.loseConnection()


@implementer(IStreamClientEndpoint)
class ControlledEndpoint:
    """
    A client endpoint whose connection attempts the test completes.

    A cancelled attempt fails with L{ConnectingCancelledError}, as it does
    with Twisted's and our TCP endpoints, not with the L{CancelledError} a
    bare L{Deferred} would give.
    """

    address = IPv4Address("TCP", "198.51.100.1", 80)

    def __init__(self) -> None:
        self.attempts: list[tuple[Factory, Deferred[Any]]] = []
        self.cancelled = 0

    def connect(self, factory: Any) -> Deferred[Any]:
        def cancel(d: Deferred[Any]) -> None:
            self.cancelled += 1
            d.errback(ConnectingCancelledError(self.address))

        d: Deferred[Any] = Deferred(cancel)
        self.attempts.append((factory, d))
        return d

    def succeed(self, transport: Any, index: int = -1) -> Any:
        factory, d = self.attempts[index]
        protocol = factory.buildProtocol(self.address)
        assert protocol is not None
        transport.protocol = protocol
        protocol.makeConnection(transport)
        if not d.called:
            d.callback(protocol)
        return protocol

    def fail(self, reason: BaseException, index: int = -1) -> None:
        self.attempts[index][1].errback(reason)


class RelayTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.endpoint = ControlledEndpoint()
        self.factory = RelayFactory(self.reactor, self.endpoint)

    def accept(self) -> tuple[Protocol, HalfClosingTransport]:
        protocol = self.factory.buildProtocol(PEER)
        assert protocol is not None
        transport = HalfClosingTransport(peerAddress=PEER)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        return protocol, transport

    def relayed(
        self,
    ) -> tuple[Protocol, HalfClosingTransport, Protocol, HalfClosingTransport]:
        client, clientTransport = self.accept()
        serverTransport = HalfClosingTransport()
        server = self.endpoint.succeed(serverTransport)
        return client, clientTransport, server, serverTransport


class ConnectTests(RelayTestCase):
    """
    The accepted side is read while the outgoing connection is made, into a
    bounded buffer.
    """

    def test_readingWhileConnecting(self) -> None:
        """
        The accepted side keeps producing while the outgoing connection is
        made, so that the relay sees the client leave.
        """
        client, clientTransport = self.accept()
        self.assertEqual(clientTransport.producerState, "producing")
        self.assertEqual(len(self.endpoint.attempts), 1)
        client.dataReceived(b"x" * (EARLY_LIMIT - 1))
        self.assertEqual(clientTransport.producerState, "producing")
        serverTransport = HalfClosingTransport()
        self.endpoint.succeed(serverTransport)
        self.assertEqual(clientTransport.producerState, "producing")
        self.assertEqual(serverTransport.value(), b"x" * (EARLY_LIMIT - 1))

    def test_pausedWhenEarlyBufferFull(self) -> None:
        """
        Once C{EARLY_LIMIT} bytes wait for the outgoing connection, reading
        pauses until it is up.
        """
        client, clientTransport = self.accept()
        client.dataReceived(b"x" * (EARLY_LIMIT - 1))
        client.dataReceived(b"yz")
        self.assertEqual(clientTransport.producerState, "paused")
        serverTransport = HalfClosingTransport()
        self.endpoint.succeed(serverTransport)
        self.assertEqual(clientTransport.producerState, "producing")
        self.assertEqual(serverTransport.value(), b"x" * (EARLY_LIMIT - 1) + b"yz")

    def test_copiesBothWays(self) -> None:
        client, clientTransport, server, serverTransport = self.relayed()
        client.dataReceived(b"GET / HTTP/1.0\r\n\r\n")
        server.dataReceived(b"HTTP/1.0 200 OK\r\n")
        self.assertEqual(serverTransport.value(), b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(clientTransport.value(), b"HTTP/1.0 200 OK\r\n")

    def test_producersRegisteredBothWays(self) -> None:
        """
        Each transport is the streaming producer of the other, so that a
        full write buffer on one side pauses reading on the other.
        """
        _client, clientTransport, _server, serverTransport = self.relayed()
        self.assertIs(clientTransport.producer, serverTransport)
        self.assertTrue(clientTransport.streaming)
        self.assertIs(serverTransport.producer, clientTransport)
        self.assertTrue(serverTransport.streaming)

    def test_connectFailedClosesAccepted(self) -> None:
        _client, clientTransport = self.accept()
        with capturedLogs() as events:
            self.endpoint.fail(ConnectionRefusedError("nobody home"))
        self.assertFalse(clientTransport.connected)
        [failed, finished] = events
        self.assertEqual(failed["log_level"], LogLevel.warn)
        self.assertIn("nobody home", failed["reason"])
        self.assertEqual(failed["relay"], 1)
        self.assertEqual(failed["peer"], "192.0.2.7:5555")
        self.assertIn("connecting failed", finished["ending"])
        self.assertIn("nobody home", finished["ending"])
        self.assertEqual(self.factory.relays, set())

    def test_earlyDataKept(self) -> None:
        """
        Bytes read while connecting are kept and sent once the outgoing
        connection is up, before anything later.
        """
        client, _clientTransport = self.accept()
        client.dataReceived(b"early ")
        serverTransport = HalfClosingTransport()
        self.endpoint.succeed(serverTransport)
        client.dataReceived(b"late")
        self.assertEqual(serverTransport.value(), b"early late")

    def test_earlyEndOfInputPassedOn(self) -> None:
        """
        End of input read while connecting is passed on too, after the
        early bytes, once the outgoing connection is up; the accepted side
        then no longer produces for it.
        """
        client, clientTransport = self.accept()
        client.dataReceived(b"all of it")
        client.readConnectionLost()  # type: ignore[attr-defined]
        serverTransport = HalfClosingTransport()
        server = self.endpoint.succeed(serverTransport)
        self.assertEqual(serverTransport.value(), b"all of it")
        self.assertTrue(serverTransport.writeClosed)
        self.assertIsNone(serverTransport.producer)
        server.dataReceived(b"answer")
        self.assertEqual(clientTransport.value(), b"answer")

    def test_connectRaises(self) -> None:
        """
        An endpoint whose C{connect} raises is a failed connection.
        """

        @implementer(IStreamClientEndpoint)
        class Raising:
            def connect(self, factory: Any) -> Deferred[Any]:
                raise RuntimeError("broken plugin")

        self.factory.connectTo = Raising()
        with capturedLogs() as events:
            _client, clientTransport = self.accept()
        self.assertFalse(clientTransport.connected)
        self.assertEqual(self.factory.relays, set())
        self.assertEqual(events[-1]["ending"], "connecting failed: broken plugin")

    def test_clientLeavesWhileConnecting(self) -> None:
        """
        If the client goes away while the outgoing connection is being
        made, the attempt is cancelled and the relay ends, quietly.
        """
        client, _clientTransport = self.accept()
        [relay] = self.factory.relays
        with capturedLogs() as events:
            client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.endpoint.cancelled, 1)
        # One event, the relay's end: no warning for a cancel we made.
        self.assertEqual([e["ending"] for e in events], ["closed by the client"])
        self.assertIsNone(self.successResultOf(relay.finished))
        self.assertIsNone(relay.connectFailure)

    def test_clientResetWhileConnecting(self) -> None:
        """
        A client that resets while the outgoing connection is made cancels
        it too, without a warning.
        """
        client, _clientTransport = self.accept()
        [relay] = self.factory.relays
        with capturedLogs() as events:
            client.connectionLost(Failure(ConnectionLost("reset by peer")))
        self.assertEqual(self.endpoint.cancelled, 1)
        [event] = events
        self.assertEqual(event["log_level"], LogLevel.info)
        self.assertIn("client connection lost", event["ending"])
        self.successResultOf(relay.finished)

    def test_plainCancelledErrorQuiet(self) -> None:
        """
        An endpoint that fails a cancelled attempt with a plain
        L{CancelledError}, as a bare L{Deferred} does, is quiet too.
        """

        @implementer(IStreamClientEndpoint)
        class Bare:
            def connect(self, factory: Any) -> Deferred[Any]:
                return Deferred()

        self.factory.connectTo = Bare()
        client, _clientTransport = self.accept()
        with capturedLogs() as events:
            client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual([e["ending"] for e in events], ["closed by the client"])

    def test_cancelNotOursWarns(self) -> None:
        """
        A cancellation the relay did not ask for is a failure like any
        other.
        """
        _client, clientTransport = self.accept()
        [relay] = self.factory.relays
        with capturedLogs() as events:
            self.endpoint.fail(ConnectingCancelledError(self.endpoint.address))
        self.assertEqual(events[0]["log_level"], LogLevel.warn)
        self.assertFalse(clientTransport.connected)
        self.assertIsNotNone(relay.connectFailure)

    def test_endOfInputThenConnectFails(self) -> None:
        """
        A client that ends its input while the relay connects and whose
        connection then fails is logged with the failure, not as closed.
        """
        client, _clientTransport = self.accept()
        client.dataReceived(b"request")
        client.readConnectionLost()  # type: ignore[attr-defined]
        with capturedLogs() as events:
            self.endpoint.fail(ConnectionRefusedError("nobody home"))
        self.assertIn("connecting failed", events[-1]["ending"])

    def test_connectedAfterClientLeft(self) -> None:
        """
        An outgoing connection that an endpoint completes although it was
        cancelled is closed at once, and the relay is not finished twice.
        """
        client, _clientTransport = self.accept()
        [relay] = self.factory.relays
        client.connectionLost(Failure(ConnectionDone()))
        serverTransport = HalfClosingTransport()
        self.endpoint.succeed(serverTransport)
        self.assertFalse(serverTransport.connected)
        self.successResultOf(relay.finished)


class HalfCloseTests(RelayTestCase):
    """
    End of input on one side becomes a half-close of the other.
    """

    def test_clientEndOfInput(self) -> None:
        client, clientTransport, server, serverTransport = self.relayed()
        client.readConnectionLost()  # type: ignore[attr-defined]
        self.assertTrue(serverTransport.writeClosed)
        self.assertIsNone(serverTransport.producer)
        self.assertTrue(serverTransport.connected)
        self.assertTrue(clientTransport.connected)
        # The answer still flows back.
        server.dataReceived(b"answer")
        self.assertEqual(clientTransport.value(), b"answer")

    def test_bothEndsOfInputClose(self) -> None:
        client, clientTransport, server, serverTransport = self.relayed()
        server.readConnectionLost()  # type: ignore[attr-defined]
        self.assertTrue(clientTransport.writeClosed)
        client.readConnectionLost()  # type: ignore[attr-defined]
        self.assertFalse(clientTransport.connected)
        self.assertFalse(serverTransport.connected)

    def test_withoutHalfClose(self) -> None:
        """
        A transport that cannot half-close (TLS) is closed instead.
        """
        client, _clientTransport = self.accept()
        serverTransport = StringTransportWithDisconnection()
        self.endpoint.succeed(serverTransport)
        client.readConnectionLost()  # type: ignore[attr-defined]
        self.assertFalse(serverTransport.connected)


class CloseTests(RelayTestCase):
    """
    When one side closes, what it sent is flushed to the other, which is
    then closed, and the relay is logged.
    """

    def test_clientCloses(self) -> None:
        client, clientTransport, server, serverTransport = self.relayed()
        [relay] = self.factory.relays
        self.reactor.advance(2.5)
        client.dataReceived(b"12345")
        server.dataReceived(b"abc")
        with capturedLogs() as events:
            clientTransport.loseConnection()
        self.assertFalse(serverTransport.connected)
        self.assertIsNone(serverTransport.producer)
        [event] = events
        self.assertEqual(
            {k: event[k] for k in ("relay", "peer", "bytesUp", "bytesDown")},
            {"relay": 1, "peer": "192.0.2.7:5555", "bytesUp": 5, "bytesDown": 3},
        )
        self.assertEqual(event["duration"], 2.5)
        self.assertEqual(event["ending"], "closed by the client")
        self.assertEqual(self.factory.relays, set())
        self.successResultOf(relay.finished)

    def test_serverLost(self) -> None:
        client, clientTransport, server, _serverTransport = self.relayed()
        with capturedLogs() as events:
            server.connectionLost(Failure(ConnectionLost("reset by peer")))
            client.connectionLost(Failure(ConnectionDone()))
        self.assertFalse(clientTransport.connected)
        self.assertIn("server connection lost", events[-1]["ending"])
        self.assertIn("reset by peer", events[-1]["ending"])

    def test_cleanCloseNotAborted(self) -> None:
        """
        A clean close is passed on as a clean close (a FIN), never a reset.
        """
        _client, clientTransport, _server, serverTransport = self.relayed()
        clientTransport.loseConnection()
        self.assertFalse(serverTransport.connected)
        self.assertFalse(serverTransport.aborted)

    def test_clientResetPassedOn(self) -> None:
        """
        A client connection lost uncleanly (a reset) aborts the server
        connection, so that the server does not take a cut-off stream for
        a complete one; the relay logs that it passed the reset on.
        """
        client, _clientTransport, _server, serverTransport = self.relayed()
        with capturedLogs() as events:
            client.connectionLost(Failure(ConnectionLost("reset by peer")))
        self.assertTrue(serverTransport.aborted)
        passedOn = [e for e in events if "resetting" in e["log_format"]]
        self.assertEqual(
            [(e["log_level"], e["role"], e["other"]) for e in passedOn],
            [(LogLevel.info, "client", "server")],
        )
        self.assertIn("reset by peer", passedOn[0]["reason"])

    def test_serverResetPassedOn(self) -> None:
        client, clientTransport, server, _serverTransport = self.relayed()
        client.dataReceived(b"request")
        server.connectionLost(Failure(ConnectionLost("reset by peer")))
        self.assertTrue(clientTransport.aborted)
        self.assertEqual(self.factory.relays, set())

    def test_flushOnClose(self) -> None:
        """
        Through in-memory connections on both sides: bytes the client sent
        just before closing all reach the server before it sees the close.
        """
        upstream: list[bytes] = []
        lost: list[int] = []

        class Server(Protocol):
            def dataReceived(self, data: bytes) -> None:
                upstream.append(data)

            def connectionLost(self, reason: Any = None) -> None:
                lost.append(len(b"".join(upstream)))

        client = Protocol()
        relayAccepted = self.factory.buildProtocol(PEER)
        clientPump = iosim.connect(
            relayAccepted,
            iosim.makeFakeServer(relayAccepted),
            client,
            iosim.makeFakeClient(client),
        )
        relayOutgoing = self.endpoint.attempts[0][0].buildProtocol(None)
        server = Server()
        serverPump = iosim.connect(
            server,
            iosim.makeFakeServer(server),
            relayOutgoing,
            iosim.makeFakeClient(relayOutgoing),
        )
        client.transport.write(b"x" * 100000)  # type: ignore[union-attr]
        client.transport.loseConnection()  # type: ignore[union-attr]
        clientPump.flush()
        serverPump.flush()
        self.assertEqual(b"".join(upstream), b"x" * 100000)
        self.assertEqual(lost, [100000])
        self.assertEqual(self.factory.relays, set())


class LimitTests(RelayTestCase):
    def test_maxConnections(self) -> None:
        self.factory.maxConnections = 2
        self.accept()
        self.accept()
        with capturedLogs() as events:
            self.assertIsNone(self.factory.buildProtocol(PEER))
        [event] = events
        self.assertEqual(event["log_level"], LogLevel.warn)
        self.assertEqual((event["relay"], event["open"]), (3, 2))
        self.assertTrue(
            formatEvent(event).endswith("refused: 2 connections open already")
        )

    def test_oneConnectionOpen(self) -> None:
        """
        One connection is counted in the singular.
        """
        self.factory.maxConnections = 1
        self.accept()
        with capturedLogs() as events:
            self.factory.buildProtocol(PEER)
        self.assertTrue(formatEvent(events[0]).endswith("1 connection open already"))
        with capturedLogs() as events:
            self.factory.drain(5)
        self.assertEqual(
            formatEvent(events[0]), "waiting up to 5 s for 1 open connection"
        )

    def test_numbersCountUp(self) -> None:
        self.accept()
        self.accept()
        self.assertEqual(sorted(r.number for r in self.factory.relays), [1, 2])


class DrainTests(RelayTestCase):
    def test_idleAtOnce(self) -> None:
        self.successResultOf(self.factory.drain(5))
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_finishWithinGrace(self) -> None:
        _client, clientTransport, _server, _serverTransport = self.relayed()
        d = self.factory.drain(5)
        self.assertNoResult(d)
        clientTransport.loseConnection()
        self.successResultOf(d)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_abortAfterGrace(self) -> None:
        _client, clientTransport, _server, serverTransport = self.relayed()
        _connecting, _connectingTransport = self.accept()
        d = self.factory.drain(5)
        self.reactor.advance(4.9)
        self.assertNoResult(d)
        with capturedLogs() as events:
            self.reactor.advance(0.1)
        self.successResultOf(d)
        self.assertTrue(clientTransport.aborted)
        self.assertTrue(serverTransport.aborted)
        self.assertEqual(self.endpoint.cancelled, 1)
        self.assertEqual(
            [e["ending"] for e in events if "ending" in e],
            ["aborted at shutdown"] * 2,
        )


class FakePort:
    """
    A listening port that records C{stopListening}; it stops only when the
    test fires the Deferred it returns.
    """

    def __init__(self) -> None:
        self.stopping: Deferred[None] | None = None

    def getHost(self) -> IPv6Address:
        return IPv6Address("TCP", "::1", 4321)

    def stopListening(self) -> Deferred[None]:
        self.stopping = Deferred()
        return self.stopping


class NoAbortTransport(HalfClosingTransport):
    """
    A transport without C{abortConnection}, like Twisted's standard I/O.
    """

    def __getattribute__(self, name: str) -> Any:
        if name == "abortConnection":
            raise AttributeError(name)
        return super().__getattribute__(name)


@implementer(IStreamServerEndpoint)
class RecordingServerEndpoint:
    def __init__(self, result: Deferred[Any]) -> None:
        self.result = result
        self.factories: list[Factory] = []

    def listen(self, factory: Any) -> Deferred[Any]:
        self.factories.append(factory)
        return self.result


class AbortWithoutAbortTests(RelayTestCase):
    def test_abortFallsBackToClose(self) -> None:
        """
        A transport that cannot abort is closed instead.
        """
        protocol = self.factory.buildProtocol(PEER)
        assert protocol is not None
        clientTransport = NoAbortTransport()
        clientTransport.protocol = protocol
        protocol.makeConnection(clientTransport)
        serverTransport = NoAbortTransport()
        self.endpoint.succeed(serverTransport)
        d = self.factory.drain(0)
        self.reactor.advance(0)
        self.successResultOf(d)
        self.assertFalse(clientTransport.connected)
        self.assertFalse(serverTransport.connected)
        self.assertEqual(self.factory.relays, set())
