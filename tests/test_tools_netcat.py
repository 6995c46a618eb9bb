"""
Tests for L{txendpoints._tools._netcat}: a L{Session} joins standard I/O to
network connections, with flow control and half-close, on fake transports.
"""

from __future__ import annotations

import io
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import (
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints._tools._nccommands import connect, listen
from txendpoints._tools._netcat import Session


class HalfTransport(StringTransport):
    """
    A L{StringTransport} that can be half-closed and aborted, as TCP and
    our standard I/O can.
    """

    writeClosed = False
    aborted = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True

    def abortConnection(self) -> None:
        self.aborted = True


class WholeTransport(StringTransport):
    """
    A transport that cannot be half-closed (as TLS cannot).
    """

    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True


@implementer(IStreamClientEndpoint)
class FakeClientEndpoint:
    """
    Connects each protocol to a new transport at once, or fails.
    """

    def __init__(self, failure: Exception | None = None, half: bool = True) -> None:
        self.failure = failure
        self.half = half
        self.protocols: list[Any] = []

    def connect(self, factory: IProtocolFactory) -> Deferred[IProtocol]:
        if self.failure is not None:
            return fail(self.failure)
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        assert protocol is not None
        transport = HalfTransport() if self.half else WholeTransport()
        self.protocols.append(protocol)
        protocol.makeConnection(transport)
        return succeed(protocol)


class FakePort:
    def __init__(self) -> None:
        self.stopped = 0

    def getHost(self) -> IPv4Address:
        return IPv4Address("TCP", "127.0.0.1", 4567)

    def stopListening(self) -> None:
        self.stopped += 1


@implementer(IStreamServerEndpoint)
class FakeServerEndpoint:
    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.port = FakePort()
        self.factory: Any = None

    def listen(self, factory: IProtocolFactory) -> Deferred[Any]:
        if self.failure is not None:
            return fail(self.failure)
        self.factory = factory
        return succeed(self.port)

    def accept(self) -> Any:
        protocol = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 2))
        if protocol is not None:
            protocol.makeConnection(HalfTransport())
        return protocol


class SessionTests(SynchronousTestCase):
    """
    L{Session} with L{connect}: bytes both ways, half-close, exit status.
    """

    def setUp(self) -> None:
        self.stdio = FakeClientEndpoint()
        self.errors = io.StringIO()
        self.session = Session(self.stdio, errors=self.errors, name="nc")
        self.results: list[int] = []
        self.session.done.addCallback(self.results.append)

    def connected(self, net: FakeClientEndpoint | None = None) -> tuple[Any, Any]:
        net = net or FakeClientEndpoint()
        connect(self.session, net, "tx-tcp4:h:1")
        return net.protocols[0], self.stdio.protocols[0]

    def test_bothWays(self) -> None:
        net, stdio = self.connected()
        net.dataReceived(b"from the net")
        stdio.dataReceived(b"from stdin")
        self.assertEqual(stdio.transport.value(), b"from the net")
        self.assertEqual(net.transport.value(), b"from stdin")

    def test_flowControl(self) -> None:
        """
        Each side is the other's producer: a full output pauses the input
        that fills it.
        """
        net, stdio = self.connected()
        self.assertEqual(net.transport.producerState, "producing")
        stdio.transport.producer.pauseProducing()
        self.assertEqual(net.transport.producerState, "paused")
        stdio.transport.producer.resumeProducing()
        self.assertEqual(net.transport.producerState, "producing")
        net.transport.producer.pauseProducing()
        self.assertEqual(stdio.transport.producerState, "paused")

    def test_producerNeverStopped(self) -> None:
        """
        A consumer that is lost stops its producer; ours is never stopped
        that way, as standard I/O outlives a connection.
        """
        net, stdio = self.connected()
        net.transport.producer.stopProducing()
        self.assertFalse(stdio.transport.disconnecting)

    def test_stdinEndHalfCloses(self) -> None:
        """
        End of standard input half-closes the connection, which may still
        send.
        """
        net, stdio = self.connected()
        stdio.readConnectionLost()
        self.assertTrue(net.transport.writeClosed)
        self.assertIsNone(net.transport.producer)
        net.dataReceived(b"answer")
        self.assertEqual(stdio.transport.value(), b"answer")
        self.assertEqual(self.results, [])

    def test_stdinEndWholeTransport(self) -> None:
        """
        A connection that cannot be half-closed is left open at the end of
        input: closing it would drop the peer's answer.
        """
        net, stdio = self.connected(FakeClientEndpoint(half=False))
        stdio.readConnectionLost()
        self.assertFalse(net.transport.disconnecting)

    def test_netEndClosesOutput(self) -> None:
        """
        End of the connection's input closes standard output, flushed;
        input goes on being sent until it ends, and the session ends,
        cleanly, once both directions have.
        """
        net, stdio = self.connected()
        net.dataReceived(b"last")
        net.readConnectionLost()
        self.assertTrue(stdio.transport.writeClosed)
        self.assertIsNone(stdio.transport.producer)
        self.assertFalse(net.transport.disconnecting)
        stdio.writeConnectionLost()
        stdio.dataReceived(b"more")
        self.assertEqual(net.transport.value(), b"more")
        stdio.readConnectionLost()
        self.assertTrue(net.transport.writeClosed)
        self.assertFalse(net.transport.disconnecting)
        net.writeConnectionLost()
        self.assertTrue(net.transport.disconnecting)
        self.assertEqual(self.results, [])
        net.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.results, [0])
        self.assertTrue(stdio.transport.disconnecting)
        self.assertEqual(self.errors.getvalue(), "")

    def test_sentThenNetEnds(self) -> None:
        """
        A connection whose output is done is closed when its input ends.
        """
        net, stdio = self.connected()
        stdio.readConnectionLost()
        net.writeConnectionLost()
        self.assertFalse(net.transport.disconnecting)
        net.readConnectionLost()
        self.assertTrue(net.transport.disconnecting)

    def test_endWithInput(self) -> None:
        """
        With C{endWithInput} (a terminal), the end of the connection's
        input ends the session once output is flushed; input not yet sent
        is not read any more.
        """
        self.session.endWithInput = True
        net, stdio = self.connected()
        net.readConnectionLost()
        self.assertIsNone(net.transport.producer)
        self.assertEqual(stdio.transport.producerState, "paused")
        self.assertTrue(net.transport.disconnecting)
        self.assertTrue(stdio.transport.writeClosed)
        net.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.results, [])
        stdio.writeConnectionLost()
        self.assertEqual(self.results, [0])

    def test_lostUncleanly(self) -> None:
        net, stdio = self.connected()
        net.connectionLost(Failure(ConnectionLost("reset")))
        self.assertTrue(stdio.transport.writeClosed)
        stdio.writeConnectionLost()
        self.assertEqual(self.results, [1])
        self.assertIn("nc: connection lost: ", self.errors.getvalue())

    def test_connectFails(self) -> None:
        connect(self.session, FakeClientEndpoint(ConnectionRefusedError()), "tx:x")
        self.assertEqual(self.results, [1])
        self.assertEqual(self.stdio.protocols, [])
        self.assertIn("nc: cannot connect to tx:x: ", self.errors.getvalue())

    def test_stdoutGone(self) -> None:
        """
        Output that nobody reads any more ends the session at once, with
        status 1.
        """
        net, stdio = self.connected()
        stdio.writeConnectionLost()
        self.assertTrue(net.transport.aborted)
        self.assertTrue(stdio.transport.aborted)
        net.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.results, [1])
        self.assertEqual(self.errors.getvalue(), "nc: standard output closed\n")

    def test_stdioEndsNormally(self) -> None:
        """
        Standard I/O ends whole once input has ended and output was closed
        on request; the connection goes on sending what it has.
        """
        net, stdio = self.connected()
        net.readConnectionLost()
        stdio.readConnectionLost()
        stdio.writeConnectionLost()
        stdio.connectionLost(Failure(ConnectionDone()))
        self.assertFalse(net.transport.aborted)
        self.assertEqual(self.results, [])
        net.writeConnectionLost()
        net.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.results, [0])

    def test_stdioLostUnasked(self) -> None:
        """
        Output lost with input already ended (so only as the end of the
        whole of standard I/O) ends the session with status 1.
        """
        net, stdio = self.connected()
        stdio.readConnectionLost()
        stdio.connectionLost(Failure(ConnectionLost()))
        self.assertTrue(net.transport.aborted)
        net.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.results, [1])
        self.assertEqual(self.errors.getvalue(), "nc: standard output closed\n")

    def test_stdioUnusable(self) -> None:
        self.stdio.failure = OSError("bad descriptor")
        net = FakeClientEndpoint()
        connect(self.session, net, "tx:x")
        self.assertTrue(net.protocols[0].transport.aborted)
        net.protocols[0].connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.results, [1])
        self.assertIn("cannot use standard I/O", self.errors.getvalue())

    def test_pausedUntilJoined(self) -> None:
        """
        The connection is not read until standard I/O is there to write to.
        """
        stdioDone: Deferred[Any] = Deferred()
        self.session._stdioEndpoint = type(
            "Later", (), {"connect": lambda self, factory: stdioDone}
        )()
        net = FakeClientEndpoint()
        connect(self.session, net, "tx:x")
        self.assertEqual(net.protocols[0].transport.producerState, "paused")

    def test_abort(self) -> None:
        net, stdio = self.connected()
        self.session.abort()
        self.assertTrue(net.transport.aborted)
        self.assertTrue(stdio.transport.aborted)
        net.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.results, [1])


class ListenTests(SynchronousTestCase):
    """
    L{listen}: where it listens, one connection, or one after another.
    """

    def start(self, keep: bool = False) -> None:
        self.stdio = FakeClientEndpoint()
        self.errors = io.StringIO()
        self.session = Session(self.stdio, keep, errors=self.errors, name="nc")
        self.results: list[int] = []
        self.session.done.addCallback(self.results.append)
        self.server = FakeServerEndpoint()
        listen(self.session, self.server, "tx-tcp4:0")

    def test_saysWhere(self) -> None:
        self.start()
        self.assertEqual(
            self.errors.getvalue(),
            "nc: listening on 127.0.0.1:4567; connect with tx-tcp4:127.0.0.1:4567\n",
        )

    def test_oneConnection(self) -> None:
        """
        The first connection stops the listening; one that comes before it
        has stopped is refused; the session ends with the first.
        """
        self.start()
        first = self.server.accept()
        self.assertEqual(self.server.port.stopped, 1)
        self.assertIsNone(self.server.accept())
        first.dataReceived(b"hi")
        self.assertEqual(self.stdio.protocols[0].transport.value(), b"hi")
        first.readConnectionLost()
        self.stdio.protocols[0].writeConnectionLost()
        self.stdio.protocols[0].readConnectionLost()
        first.writeConnectionLost()
        first.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.results, [0])

    def test_keep(self) -> None:
        """
        With C{keep}, later connections wait, paused, for the one before
        to end; output stays open between them.
        """
        self.start(keep=True)
        first = self.server.accept()
        second = self.server.accept()
        self.assertEqual(self.server.port.stopped, 0)
        self.assertEqual(second.transport.producerState, "paused")
        stdio = self.stdio.protocols[0]
        first.readConnectionLost()
        self.assertFalse(stdio.transport.writeClosed)
        # Input waits for the next connection, not sent to one closing.
        self.assertIsNone(first.transport.producer)
        self.assertEqual(stdio.transport.producerState, "paused")
        first.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(second.transport.producerState, "producing")
        second.dataReceived(b"two")
        stdio.dataReceived(b"to two")
        self.assertEqual(stdio.transport.value(), b"two")
        self.assertEqual(second.transport.value(), b"to two")
        self.assertEqual(len(self.stdio.protocols), 1)
        self.assertEqual(self.results, [])

    def test_keepAfterInputEnded(self) -> None:
        """
        Once input has ended, each later connection is half-closed as soon
        as it is served.
        """
        self.start(keep=True)
        first = self.server.accept()
        self.stdio.protocols[0].readConnectionLost()
        first.connectionLost(Failure(ConnectionDone()))
        second = self.server.accept()
        self.assertTrue(second.transport.writeClosed)

    def test_waitingLeaves(self) -> None:
        self.start(keep=True)
        first = self.server.accept()
        second = self.server.accept()
        second.connectionLost(Failure(ConnectionLost()))
        first.dataReceived(b"still")
        self.assertEqual(self.stdio.protocols[0].transport.value(), b"still")
        self.assertEqual(self.session.status, 0)

    def test_listenFails(self) -> None:
        self.stdio = FakeClientEndpoint()
        self.errors = io.StringIO()
        session = Session(self.stdio, errors=self.errors, name="nc")
        results: list[int] = []
        session.done.addCallback(results.append)
        listen(session, FakeServerEndpoint(OSError("in use")), "tx-tcp4:80")
        self.assertEqual(results, [1])
        self.assertIn("nc: cannot listen on tx-tcp4:80: in use", self.errors.getvalue())
