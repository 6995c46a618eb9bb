"""
Tests for L{txendpoints._client._attempt}: one connection attempt on its
own, driven through the plain callables a race gives it.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    NoProtocol,
    NotConnectingError,
)
from twisted.internet.interfaces import (
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IHandshakeListener,
    IProtocol,
)
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints._client import _attempt
from txendpoints._client._attempt import _Attempt

from .test_client_race import CountingFactory, Recorder

V4A = IPv4Address("TCP", "192.0.2.1", 80)


class AbortableTransport(StringTransport):
    """
    A L{StringTransport} that records C{abortConnection}.
    """

    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        self.loseConnection()


class AttemptTests(SynchronousTestCase):
    """
    L{_Attempt} connects, reports its failure once, builds the user's
    protocol only when its claim wins, and stops cleanly.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.factory = CountingFactory()
        self.failures: list[Failure] = []
        self.claims: list[_Attempt] = []
        self.won: Any = Deferred()
        self.attempt = _Attempt(V4A, self.factory, self.failed, self.claim)

    def failed(self, attempt: _Attempt, reason: Failure) -> None:
        self.assertIs(attempt, self.attempt)
        self.failures.append(reason)

    def claim(self, attempt: _Attempt) -> Deferred[IProtocol] | None:
        self.claims.append(attempt)
        return self.won

    def connect(self) -> Any:
        """
        Start the attempt and make its connection.

        @return: The stand-in protocol, connected to a fresh transport.
        """
        self.attempt.connect(self.reactor, 5, ("10.0.0.1", 0))
        standIn: Any = self.attempt.buildProtocol(V4A)
        standIn.makeConnection(AbortableTransport())
        return standIn

    def test_connectArguments(self) -> None:
        self.attempt.connect(self.reactor, 5, ("10.0.0.1", 0))
        host, port, factory, timeout, bind = self.reactor.tcpClients[0]
        self.assertEqual(
            (host, port, timeout, bind), ("192.0.2.1", 80, 5, ("10.0.0.1", 0))
        )
        self.assertIs(factory, self.attempt)
        self.assertIs(self.attempt.connector, self.reactor.connectors[0])
        self.assertTrue(self.attempt.connecting)

    def test_connectRaises(self) -> None:
        """
        A C{connectTCP} that raises is the attempt's failure, reported
        through C{failed}, not raised.
        """

        def connectTCP(*args: Any, **kwargs: Any) -> Any:
            raise ConnectError(string="bad")

        self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]
        self.attempt.connect(self.reactor, None, None)
        self.assertEqual(len(self.failures), 1)
        self.failures[0].trap(ConnectError)
        self.assertFalse(self.attempt.connecting)

    def test_connectRaisesOSError(self) -> None:
        """
        An L{OSError} from C{connectTCP} is a connection failure too.
        """

        def connectTCP(*args: Any, **kwargs: Any) -> Any:
            raise OSError(99, "Cannot assign requested address")

        self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]
        self.attempt.connect(self.reactor, None, None)
        self.failures[0].trap(OSError)

    def test_connectRaisesOther(self) -> None:
        """
        Anything else C{connectTCP} raises is no failure of the address: it
        is raised, not reported, and the attempt is no longer connecting.
        """
        for error in [TypeError("bad bindAddress"), KeyboardInterrupt()]:
            attempt = _Attempt(V4A, self.factory, self.failed, lambda a: None)

            def connectTCP(
                *args: Any, error: BaseException = error, **kwargs: Any
            ) -> Any:
                raise error

            self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]
            self.assertRaises(type(error), attempt.connect, self.reactor, None, None)
            self.assertFalse(attempt.connecting)
        self.assertEqual(self.failures, [])

    def test_failureReportedOnce(self) -> None:
        self.attempt.connect(self.reactor, None, None)
        connector = self.reactor.connectors[0]
        self.attempt.clientConnectionFailed(
            connector, Failure(ConnectionRefusedError())
        )
        self.attempt.clientConnectionFailed(
            connector, Failure(ConnectionRefusedError())
        )
        self.assertEqual(len(self.failures), 1)
        self.assertFalse(self.attempt.connecting)

    def test_stopStopsAndSilences(self) -> None:
        self.attempt.connect(self.reactor, None, None)
        self.attempt.stop()
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        # The connector reports the stop as a failure; it is not passed on.
        self.attempt.clientConnectionFailed(
            self.reactor.connectors[0], Failure(ConnectionRefusedError())
        )
        self.assertEqual(self.failures, [])
        self.assertIsNone(self.attempt.buildProtocol(V4A))

    def test_stopConnected(self) -> None:
        """
        A connector that is no longer connecting is disconnected instead.
        """
        calls: list[str] = []

        class Connected:
            def stopConnecting(self) -> None:
                raise NotConnectingError()

            def disconnect(self) -> None:
                calls.append("disconnect")

        self.attempt.connector = Connected()  # type: ignore[assignment]
        self.attempt.stop()
        self.attempt.stop()
        self.assertEqual(calls, ["disconnect"])

    def test_stopBeforeConnect(self) -> None:
        self.attempt.stop()
        self.assertFalse(self.attempt.connecting)

    def test_wins(self) -> None:
        """
        A connection whose claim wins gets the user's protocol, built from
        a started factory for the address connected to, and the claim's
        L{Deferred} fires with it once it is connected.
        """
        built: list[Any] = []
        original = self.factory.buildProtocol

        def buildProtocol(addr: Any) -> Any:
            built.append(addr)
            return original(addr)

        self.factory.buildProtocol = buildProtocol  # type: ignore[method-assign]
        standIn = self.connect()
        self.assertEqual(self.claims, [self.attempt])
        self.assertEqual(built, [V4A])
        proto = self.successResultOf(self.won)
        self.assertIs(proto, self.factory.built[0])
        self.assertEqual(proto.events, ["made"])
        self.assertIs(proto.transport, standIn.transport)
        self.assertEqual(self.factory.starts, 1)
        self.assertFalse(self.attempt.connecting)
        standIn.dataReceived(b"x")
        standIn.connectionLost(Failure(Exception()))
        self.assertEqual(proto.events, ["made", b"x", "lost"])
        self.attempt.doStop()
        self.assertEqual(self.factory.stops, 1)

    def test_peerWhenNoAddress(self) -> None:
        """
        Without an address from C{buildProtocol}, the user's protocol is
        built for the transport's peer.
        """
        addresses: list[Any] = []

        def buildProtocol(addr: Any) -> Any:
            addresses.append(addr)
            return Recorder()

        self.factory.buildProtocol = buildProtocol  # type: ignore[method-assign]
        standIn: Any = self.attempt.buildProtocol(None)
        transport = StringTransport(peerAddress=V4A)
        standIn.makeConnection(transport)
        self.assertEqual(addresses, [V4A])

    def test_claimLost(self) -> None:
        """
        A connection whose claim loses is aborted; the user's factory is
        neither started nor used, nor stopped.
        """
        self.won = None
        standIn = self.connect()
        self.assertTrue(standIn.transport.aborted)
        self.assertEqual((self.factory.starts, self.factory.built), (0, []))
        self.attempt.doStop()
        self.assertEqual(self.factory.stops, 0)

    def test_lateConnectionNotClaimed(self) -> None:
        """
        A connection made after the attempt was stopped does not even
        claim; without C{abortConnection}, it is closed.
        """
        standIn: Any = self.attempt.buildProtocol(V4A)
        self.attempt.stop()
        transport = StringTransport()
        standIn.makeConnection(transport)
        self.assertEqual(self.claims, [])
        self.assertTrue(transport.disconnecting)

    def test_noProtocol(self) -> None:
        self.factory.buildProtocol = lambda addr: None  # type: ignore[method-assign]
        standIn = self.connect()
        self.failureResultOf(self.won, NoProtocol)
        self.assertTrue(standIn.transport.disconnecting)

    def test_connectionMadeRaises(self) -> None:
        class Raises(Recorder):
            def connectionMade(self) -> None:
                raise ZeroDivisionError()

        self.factory.buildProtocol = lambda addr: Raises()  # type: ignore[method-assign]
        self.assertRaises(ZeroDivisionError, self.connect)
        self.failureResultOf(self.won, ZeroDivisionError)


class StandInTests(SynchronousTestCase):
    """
    The stand-in protocol passes everything through to the user's protocol
    once it wins, and looks like it to the transport.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.factory = CountingFactory()
        self.won: Deferred[IProtocol] = Deferred()
        self.attempt = _Attempt(V4A, self.factory, lambda a, f: None, self.claim)

    def claim(self, attempt: _Attempt) -> Deferred[IProtocol]:
        return self.won

    def test_halfCloseProvided(self) -> None:
        """
        The stand-in protocol provides L{IHalfCloseableProtocol} when the
        user's protocol does, so the transport tells it about half-closes.
        """

        @implementer(IHalfCloseableProtocol)
        class Half(Recorder):
            def readConnectionLost(self) -> None:
                self.events.append("readLost")

            def writeConnectionLost(self) -> None:
                self.events.append("writeLost")

        self.factory.buildProtocol = lambda addr: Half()  # type: ignore[method-assign]
        standIn: Any = self.attempt.buildProtocol(V4A)
        self.assertFalse(IHalfCloseableProtocol.providedBy(standIn))
        standIn.makeConnection(StringTransport())
        self.assertTrue(IHalfCloseableProtocol.providedBy(standIn))
        standIn.dataReceived(b"x")
        standIn.readConnectionLost()
        standIn.writeConnectionLost()
        standIn.connectionLost(Failure(Exception()))
        proto: Any = self.successResultOf(self.won)
        self.assertEqual(proto.events, ["made", b"x", "readLost", "writeLost", "lost"])
        self.assertEqual(standIn.logPrefix(), "Half")

    def test_everyInterfaceProvided(self) -> None:
        """
        A protocol that provides several of the optional interfaces has
        each of them provided by the stand-in, not just the last.
        """

        @implementer(IHalfCloseableProtocol, IHandshakeListener)
        class Both(Recorder):
            def readConnectionLost(self) -> None:
                self.events.append("readLost")

            def writeConnectionLost(self) -> None:
                self.events.append("writeLost")

            def handshakeCompleted(self) -> None:
                self.events.append("handshake")

        self.factory.buildProtocol = lambda addr: Both()  # type: ignore[method-assign]
        standIn: Any = self.attempt.buildProtocol(V4A)
        standIn.makeConnection(StringTransport())
        self.assertTrue(IHalfCloseableProtocol.providedBy(standIn))
        self.assertTrue(IHandshakeListener.providedBy(standIn))
        self.assertFalse(IFileDescriptorReceiver.providedBy(standIn))
        standIn.handshakeCompleted()
        standIn.readConnectionLost()
        proto: Any = self.successResultOf(self.won)
        self.assertEqual(proto.events, ["made", "handshake", "readLost"])

    def test_fileDescriptorsPassed(self) -> None:
        @implementer(IFileDescriptorReceiver)
        class Receiver(Recorder):
            def fileDescriptorReceived(self, descriptor: int) -> None:
                self.events.append(descriptor)

        self.factory.buildProtocol = lambda addr: Receiver()  # type: ignore[method-assign]
        standIn: Any = self.attempt.buildProtocol(V4A)
        standIn.makeConnection(StringTransport())
        self.assertTrue(IFileDescriptorReceiver.providedBy(standIn))
        standIn.fileDescriptorReceived(7)
        proto: Any = self.successResultOf(self.won)
        self.assertEqual(proto.events, ["made", 7])

    def test_transportLogPrefix(self) -> None:
        """
        A transport that took its log prefix from the stand-in (as Twisted's
        TCP client does, between C{buildProtocol} and C{makeConnection})
        names the user's protocol once it wins.
        """
        standIn: Any = self.attempt.buildProtocol(V4A)
        self.assertEqual(standIn.logPrefix(), type(standIn).__name__)
        transport: Any = StringTransport()
        transport.logstr = f"{type(standIn).__name__},client"
        standIn.makeConnection(transport)
        self.successResultOf(self.won)
        self.assertEqual(transport.logstr, "Recorder,client")

    def test_userLogPrefix(self) -> None:
        """
        A user's protocol with a C{logPrefix} of its own names the
        connection by it.
        """

        class Named(Recorder):
            def logPrefix(self) -> str:
                return "Named!"

        self.factory.buildProtocol = lambda addr: Named()  # type: ignore[method-assign]
        standIn: Any = self.attempt.buildProtocol(V4A)
        transport: Any = StringTransport()
        transport.logstr = f"{type(standIn).__name__},client"
        standIn.makeConnection(transport)
        self.assertEqual(standIn.logPrefix(), "Named!")
        self.assertEqual(transport.logstr, "Named!,client")


class LayeringTests(SynchronousTestCase):
    """
    The race imports the attempt, never the other way.
    """

    def test_noRaceImport(self) -> None:
        tree = ast.parse(inspect.getsource(_attempt))
        imported = [
            node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        ] + [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        self.assertEqual([m for m in imported if "_race" in m], [])


class FactoryStartTests(SynchronousTestCase):
    """
    A user's factory that cannot start.
    """

    def test_startFactoryRaises(self) -> None:
        """
        A L{Factory} whose C{startFactory} raises fails the claimed
        L{Deferred} with that error, drops the connection, and is not
        stopped, since it never started.
        """

        class Unstartable(Factory):
            protocol = Recorder

            def startFactory(self) -> None:
                raise ZeroDivisionError()

        won: Deferred[IProtocol] = Deferred()
        attempt = _Attempt(V4A, Unstartable(), lambda a, f: None, lambda a: won)
        standIn: Any = attempt.buildProtocol(V4A)
        transport = StringTransport()
        standIn.makeConnection(transport)
        self.failureResultOf(won, ZeroDivisionError)
        self.assertTrue(transport.disconnecting)
        attempt.doStop()


class ZoneTests(SynchronousTestCase):
    """
    An IPv6 zone a resolver gives only as C{scopeID} reaches C{connectTCP}.
    """

    def test_scopeID(self) -> None:
        reactor = MemoryReactorClock()
        scoped = IPv6Address("TCP", "fe80::1", 80, 0, 2)
        attempt = _Attempt(scoped, CountingFactory(), lambda a, f: None, lambda a: None)
        attempt.connect(reactor, None, None)
        self.assertEqual(reactor.tcpClients[0][:2], ("fe80::1%2", 80))

    def test_zoneInHost(self) -> None:
        reactor = MemoryReactorClock()
        scoped = IPv6Address("TCP", "fe80::1%lo", 80, 0, 1)
        attempt = _Attempt(scoped, CountingFactory(), lambda a, f: None, lambda a: None)
        attempt.connect(reactor, None, None)
        self.assertEqual(reactor.tcpClients[0][:2], ("fe80::1%lo", 80))
