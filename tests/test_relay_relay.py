"""
Tests for L{txendpoints._relay._relay} and L{txendpoints._relay._service}, in memory.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import (
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
from twisted.logger import LogLevel, PredicateResult, capturedLogs
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints import TCP4ServerEndpoint
from txendpoints._net import formatAddress
from txendpoints._relay._factory import RelayFactory
from txendpoints._relay._service import (
    RelayLogPredicate,
    RelayService,
    parseEndpoints,
    parseGrace,
    parseMaxConnections,
)

PEER = IPv4Address("TCP", "192.0.2.7", 5555)


class HalfClosingTransport(StringTransportWithDisconnection):
    """
    A L{StringTransport} that records half-closes and tells its protocol
    when it is closed.
    """

    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True

    def abortConnection(self) -> None:
        self.aborted = True
        self.loseConnection()


@implementer(IStreamClientEndpoint)
class ControlledEndpoint:
    """
    A client endpoint whose connection attempts the test completes.
    """

    def __init__(self) -> None:
        self.attempts: list[tuple[Factory, Deferred[Any]]] = []
        self.cancelled = 0

    def connect(self, factory: Any) -> Deferred[Any]:
        def cancel(d: Deferred[Any]) -> None:
            self.cancelled += 1

        d: Deferred[Any] = Deferred(cancel)
        self.attempts.append((factory, d))
        return d

    def succeed(self, transport: Any, index: int = -1) -> Any:
        factory, d = self.attempts[index]
        protocol = factory.buildProtocol(IPv4Address("TCP", "198.51.100.1", 80))
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
    The accepted side waits, paused, for the outgoing connection.
    """

    def test_pausedUntilConnected(self) -> None:
        _client, clientTransport = self.accept()
        self.assertEqual(clientTransport.producerState, "paused")
        self.assertEqual(len(self.endpoint.attempts), 1)
        self.endpoint.succeed(HalfClosingTransport())
        self.assertEqual(clientTransport.producerState, "producing")

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
        Bytes a transport delivers although it was paused are kept and sent
        once the outgoing connection is up, before anything later.
        """
        client, _clientTransport = self.accept()
        client.dataReceived(b"early ")
        serverTransport = HalfClosingTransport()
        self.endpoint.succeed(serverTransport)
        client.dataReceived(b"late")
        self.assertEqual(serverTransport.value(), b"early late")

    def test_earlyEndOfInputPassedOn(self) -> None:
        """
        End of input that a transport delivers although it was paused is
        passed on too, after the early bytes, once the outgoing connection
        is up; the accepted side then no longer produces for it.
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
        self.assertEqual([e["ending"] for e in events], ["closed by the client"])
        self.assertIsNone(self.successResultOf(relay.finished))

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


class ServiceTests(SynchronousTestCase):
    def test_listenThroughEndpoint(self) -> None:
        reactor = MemoryReactorClock()
        service = RelayService(
            reactor,
            TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1"),
            ControlledEndpoint(),
        )
        service.startService()
        self.successResultOf(service.listening)
        self.assertEqual(reactor.tcpServers[0][:2], (0, service.factory))

    def test_listenAndStop(self) -> None:
        """
        Once listening, the address is logged; stopping stops listening
        and then waits for open relays.
        """
        port = FakePort()
        endpoint = ControlledEndpoint()
        service = RelayService(
            MemoryReactorClock(),
            RecordingServerEndpoint(succeed(port)),
            endpoint,
            connectName="tcp:127.0.0.1:80",
        )
        with capturedLogs() as events:
            service.startService()
        self.assertIs(self.successResultOf(service.listening), port)
        [event] = events
        self.assertTrue(event["relayListening"])
        self.assertEqual(event["address"], "[::1]:4321")
        self.assertEqual(event["connectTo"], "tcp:127.0.0.1:80")
        protocol = service.factory.buildProtocol(PEER)
        assert protocol is not None
        transport = HalfClosingTransport()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        d = service.stopService()
        self.assertIsNotNone(port.stopping)
        self.assertNoResult(d)
        assert port.stopping is not None
        port.stopping.callback(None)
        self.assertNoResult(d)
        transport.loseConnection()
        self.successResultOf(d)

    def test_connectedInsideListen(self) -> None:
        """
        A port that connects inside C{listen}, as a standard-I/O one does,
        still logs where it listens first, then what it accepted.
        """
        port = FakePort()
        endpoint = ControlledEndpoint()

        @implementer(IStreamServerEndpoint)
        class ConnectingEndpoint:
            def listen(self, factory: Any) -> Deferred[Any]:
                protocol = factory.buildProtocol(PEER)
                transport = HalfClosingTransport()
                transport.protocol = protocol
                protocol.makeConnection(transport)
                # The outgoing connection fails at once: its warning and
                # the relay's end are held back too.
                endpoint.fail(ConnectionRefusedError())
                return succeed(port)

        service = RelayService(MemoryReactorClock(), ConnectingEndpoint(), endpoint)
        with capturedLogs() as events:
            service.startService()
        self.assertTrue(events[0]["relayListening"])
        self.assertEqual(
            [e["log_format"].split(" ")[3:5] for e in events[1:]],
            [["accepted"], ["connecting", "to"], ["ended", "after"]],
        )
        # Later connections are logged as they happen.
        with capturedLogs() as later:
            protocol = service.factory.buildProtocol(PEER)
            assert protocol is not None
            protocol.makeConnection(HalfClosingTransport())
        self.assertEqual(later[0]["log_format"], "#{relay} from {peer} accepted")

    def test_stopWaitsForGrace(self) -> None:
        reactor = MemoryReactorClock()
        endpoint = ControlledEndpoint()
        port = FakePort()
        service = RelayService(
            reactor, RecordingServerEndpoint(succeed(port)), endpoint, grace=3
        )
        service.startService()
        protocol = service.factory.buildProtocol(PEER)
        assert protocol is not None
        transport = HalfClosingTransport()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        d = service.stopService()
        assert port.stopping is not None
        port.stopping.callback(None)
        reactor.advance(2)
        self.assertNoResult(d)
        reactor.advance(1)
        self.successResultOf(d)
        self.assertEqual(endpoint.cancelled, 1)
        self.assertTrue(transport.aborted)

    def test_graceWhileStoppingListening(self) -> None:
        """
        The grace period runs while the port stops, not after: a
        standard-I/O port stops only when its one connection has closed,
        which output that nobody reads would put off for ever.
        """
        reactor = MemoryReactorClock()
        port = FakePort()
        service = RelayService(
            reactor,
            RecordingServerEndpoint(succeed(port)),
            ControlledEndpoint(),
            grace=3,
        )
        service.startService()
        protocol = service.factory.buildProtocol(PEER)
        assert protocol is not None
        transport = HalfClosingTransport()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        d = service.stopService()
        reactor.advance(3)
        self.assertTrue(transport.aborted)
        self.assertNoResult(d)
        assert port.stopping is not None
        port.stopping.callback(None)
        self.successResultOf(d)

    def test_listenFailed(self) -> None:
        failures: list[Failure] = []
        error = OSError("address in use")
        service = RelayService(
            MemoryReactorClock(),
            RecordingServerEndpoint(fail(error)),
            ControlledEndpoint(),
            onListenFailed=failures.append,
            listenName="tx-tcp4:80",
        )
        with capturedLogs() as events:
            service.startService()
        self.assertIs(failures[0].value, error)
        self.assertEqual(events[0]["log_level"], LogLevel.critical)
        self.assertEqual(events[0]["listenOn"], "tx-tcp4:80")
        self.assertIsNone(self.successResultOf(service.listening))
        self.successResultOf(service.stopService())

    def test_stopWhileListening(self) -> None:
        """
        Stopping before listening finished cancels it, without calling
        C{onListenFailed}.
        """
        failures: list[Failure] = []
        service = RelayService(
            MemoryReactorClock(),
            RecordingServerEndpoint(Deferred()),
            ControlledEndpoint(),
            onListenFailed=failures.append,
        )
        service.startService()
        self.successResultOf(service.stopService())
        self.assertEqual(failures, [])


class HelperTests(SynchronousTestCase):
    def test_formatAddress(self) -> None:
        self.assertEqual(
            formatAddress(IPv4Address("TCP", "127.0.0.1", 80)), "127.0.0.1:80"
        )
        self.assertEqual(formatAddress(IPv6Address("TCP", "::1", 80)), "[::1]:80")
        self.assertEqual(formatAddress(None), "None")

    def test_formatStdioAddress(self) -> None:
        """
        A standard-I/O peer is logged as such, not as C{<PipeAddress object
        at 0x...>}.
        """
        from twisted.internet._posixstdio import PipeAddress

        self.assertEqual(formatAddress(PipeAddress()), "standard I/O")

    def test_connectNameDefaults(self) -> None:
        reactor = MemoryReactorClock()
        ours = TCP4ServerEndpoint(reactor, 80)
        self.assertEqual(
            RelayFactory(reactor, ours).connectName,  # type: ignore[arg-type]
            "tx-tcp4:80",
        )
        theirs = ControlledEndpoint()
        self.assertEqual(RelayFactory(reactor, theirs).connectName, repr(theirs))

    def test_parseMaxConnections(self) -> None:
        self.assertEqual(parseMaxConnections("12"), 12)
        for bad in ("0", "-1", "x", ""):
            with self.assertRaises(ValueError) as e:
                parseMaxConnections(bad)
            self.assertIn(repr(bad), str(e.exception))

    def test_parseGrace(self) -> None:
        self.assertEqual(parseGrace("0"), 0)
        self.assertEqual(parseGrace("2.5"), 2.5)
        for bad in ("-1", "inf", "nan", "soon"):
            with self.assertRaises(ValueError) as e:
                parseGrace(bad)
            self.assertIn(repr(bad), str(e.exception))

    def test_parseEndpoints(self) -> None:
        reactor = MemoryReactorClock()
        server, client = parseEndpoints(
            reactor, "tx-tcp4:0:interface=127.0.0.1", "tcp:127.0.0.1:80"
        )
        self.assertTrue(IStreamServerEndpoint.providedBy(server))
        self.assertTrue(IStreamClientEndpoint.providedBy(client))

    def test_parseEndpointsErrors(self) -> None:
        reactor = MemoryReactorClock()
        with self.assertRaises(ValueError) as e:
            parseEndpoints(reactor, "tx-tcp4:http", "tcp:127.0.0.1:80")
        self.assertEqual(
            str(e.exception), "tx-tcp4: port 'http' is not a number from 0 to 65535"
        )
        with self.assertRaises(ValueError) as e:
            parseEndpoints(reactor, "tx-tcp4:0", "nope:1")
        self.assertIn("'nope:1'", str(e.exception))
        with self.assertRaises(ValueError) as e:
            parseEndpoints(reactor, "tx-tcp4:0", "tcp:host")
        self.assertIn("'tcp:host'", str(e.exception))

    def test_logPredicate(self) -> None:
        yes, no = PredicateResult.yes, PredicateResult.no

        def decide(quiet: bool, **event: Any) -> Any:
            return RelayLogPredicate(quiet)(event)

        ours = {"log_namespace": "txendpoints.relay", "log_level": LogLevel.info}
        other = {"log_namespace": "twisted.x", "log_level": LogLevel.info}
        self.assertEqual(decide(False, **ours), yes)
        self.assertEqual(decide(True, **ours), no)
        self.assertEqual(decide(True, **ours, relayListening=True), yes)
        self.assertEqual(decide(False, **other), no)
        self.assertEqual(decide(True, **{**other, "log_level": LogLevel.error}), yes)
