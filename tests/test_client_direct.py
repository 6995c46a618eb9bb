"""
Tests for L{txendpoints._client._direct}: a connect to one address, in the
shape of Twisted's own TCP client endpoints, and through the endpoints for
every address literal.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import HostnameAddress, IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectingCancelledError,
    ConnectionRefusedError,
    NoProtocol,
)
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import HostClientEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint
from txendpoints._client._direct import connectDirectly, startWhileConnecting
from txendpoints.testing import FakeResolver

from .test_client_race import CountingFactory

V4 = IPv4Address("TCP", "127.0.0.1", 80)


class AbortableTransport(StringTransport):
    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        self.loseConnection()


class DirectTests(SynchronousTestCase):
    """
    L{connectDirectly} makes one C{connectTCP}, arms no timer, passes the
    attempt's own result through, and cancels as Twisted's endpoints do.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.factory = CountingFactory()
        self.cancelAddresses: list[Any] = []

    def made(self) -> Any:
        """
        @return: The factory given to the one C{connectTCP}.
        """
        return self.reactor.tcpClients[0][2]

    def connect(self, timeout: float | None = 30, bindAddress: object = None) -> Any:
        def cancelAddress() -> Any:
            self.cancelAddresses.append(V4)
            return V4

        return connectDirectly(
            self.reactor,
            "127.0.0.1",
            80,
            self.factory,
            timeout,
            bindAddress,
            cancelAddress,
        )

    def test_oneConnectNoTimer(self) -> None:
        """
        One C{connectTCP} with the timeout and C{bindAddress} given, and no
        delayed call of ours: C{connectTCP}'s timeout is the deadline.
        """
        self.connect(timeout=7, bindAddress=("127.0.0.2", 0))
        self.assertEqual(
            [(h, p, t, b) for h, p, _, t, b in self.reactor.tcpClients],
            [("127.0.0.1", 80, 7, ("127.0.0.2", 0))],
        )
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(self.cancelAddresses, [])

    def test_connected(self) -> None:
        """
        The connection made fires the result with the user's protocol,
        connected to the transport.
        """
        d = self.connect()
        standIn = self.made().buildProtocol(V4)
        transport = StringTransport()
        standIn.makeConnection(transport)
        protocol = self.successResultOf(d)
        self.assertIs(protocol, self.factory.built[0])
        self.assertIs(protocol.transport, transport)
        standIn.dataReceived(b"x")
        self.assertEqual(protocol.events, ["made", b"x"])

    def test_factoryStartedWhileConnecting(self) -> None:
        """
        As with Twisted's C{tcp:}, the user's factory is started when the
        connector starts and stopped when it stops, win or lose.
        """
        d = self.connect()
        factory = self.made()
        factory.doStart()
        self.assertEqual((self.factory.starts, self.factory.stops), (1, 0))
        factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
        factory.doStop()
        self.assertEqual((self.factory.starts, self.factory.stops), (1, 1))
        self.failureResultOf(d, ConnectionRefusedError)

    def test_failurePassesThrough(self) -> None:
        """
        The attempt's own failure is the result, unchanged.
        """
        d = self.connect()
        reason = Failure(ConnectionRefusedError())
        self.made().clientConnectionFailed(None, reason)
        self.assertIs(self.failureResultOf(d), reason)

    def test_cancel(self) -> None:
        """
        Cancelling fails with L{ConnectingCancelledError} carrying the
        address given, stops the connector, and a connection that completes
        later is declined.
        """
        d = self.connect()
        d.cancel()
        error = self.failureResultOf(d, ConnectingCancelledError).value
        self.assertIs(error.address, V4)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        factory = self.made()
        self.assertIsNone(factory.buildProtocol(V4))
        factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
        self.assertEqual(self.factory.built, [])

    def test_cancelBetweenBuildAndConnect(self) -> None:
        """
        A connection whose protocol was built before the cancellation is
        dropped when it completes; the user's factory builds nothing.
        """
        d = self.connect()
        standIn = self.made().buildProtocol(V4)
        d.cancel()
        transport = AbortableTransport()
        standIn.makeConnection(transport)
        self.failureResultOf(d, ConnectingCancelledError)
        self.assertTrue(transport.aborted)
        self.assertEqual(self.factory.built, [])

    def test_noProtocol(self) -> None:
        """
        A factory that builds no protocol fails the connect with
        L{NoProtocol} and closes the connection.
        """
        self.factory.buildProtocol = lambda addr: None  # type: ignore[method-assign]
        d = self.connect()
        standIn = self.made().buildProtocol(V4)
        transport = StringTransport()
        standIn.makeConnection(transport)
        self.failureResultOf(d, NoProtocol)
        self.assertTrue(transport.disconnecting)

    def test_connectionMadeRaises(self) -> None:
        """
        A protocol whose C{connectionMade} raises fails the connect with
        that error (Twisted's own wrapper leaves it waiting forever), and the
        error still reaches the transport, to be logged.
        """

        def explode() -> None:
            raise ZeroDivisionError()

        d = self.connect()
        standIn = self.made().buildProtocol(V4)
        original = self.factory.buildProtocol

        def build(addr: Any) -> Any:
            protocol = original(addr)
            protocol.connectionMade = explode
            return protocol

        self.factory.buildProtocol = build  # type: ignore[method-assign]
        self.assertRaises(ZeroDivisionError, standIn.makeConnection, StringTransport())
        self.failureResultOf(d, ZeroDivisionError)

    def test_connectTCPRaises(self) -> None:
        """
        An exception from C{connectTCP} fails the result; nothing is raised.
        """

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise ValueError("no such host")

        self.reactor.connectTCP = refuse  # type: ignore[method-assign]
        self.failureResultOf(self.connect(), ValueError)

    def test_interruptionPropagates(self) -> None:
        """
        A C{KeyboardInterrupt} from C{connectTCP} is not a connection
        failure: it propagates.
        """

        def interrupt(*args: Any, **kwargs: Any) -> Any:
            raise KeyboardInterrupt()

        self.reactor.connectTCP = interrupt  # type: ignore[method-assign]
        self.assertRaises(KeyboardInterrupt, self.connect)


class EndpointLiteralTests(SynchronousTestCase):
    """
    Every client endpoint connects to an address literal of its family on
    the direct path: one C{connectTCP}, no timer, the host as given.
    """

    def test_tcp4(self) -> None:
        reactor = MemoryReactorClock()
        d = TCP4ClientEndpoint(reactor, "127.0.0.1", 80, timeout=9).connect(
            CountingFactory()
        )
        self.assertEqual(reactor.tcpClients[0][:2], ("127.0.0.1", 80))
        self.assertEqual(reactor.tcpClients[0][3], 9)
        self.assertEqual(reactor.getDelayedCalls(), [])
        d.cancel()
        error = self.failureResultOf(d, ConnectingCancelledError).value
        self.assertEqual(error.address, IPv4Address("TCP", "127.0.0.1", 80))

    def test_tcp6Zone(self) -> None:
        reactor = MemoryReactorClock()
        d = TCP6ClientEndpoint(reactor, "fe80::1%lo", 80).connect(CountingFactory())
        self.assertEqual(reactor.tcpClients[0][0], "fe80::1%lo")
        self.assertEqual(reactor.getDelayedCalls(), [])
        d.cancel()
        error = self.failureResultOf(d, ConnectingCancelledError).value
        self.assertEqual(error.address, IPv6Address("TCP", "fe80::1%lo", 80))

    def test_hostLiteral(self) -> None:
        """
        C{tx-host} with a literal cancels with the L{HostnameAddress}
        Twisted's C{HostnameEndpoint} gives.
        """
        reactor = MemoryReactorClock()
        d = HostClientEndpoint(reactor, b"::1", 80).connect(CountingFactory())
        self.assertEqual(reactor.tcpClients[0][0], "::1")
        d.cancel()
        error = self.failureResultOf(d, ConnectingCancelledError).value
        self.assertEqual(error.address, HostnameAddress(b"::1", 80))

    def test_otherFamilyNotDirect(self) -> None:
        """
        A literal of a family the endpoint does not connect over still
        fails without connecting.
        """
        reactor = MemoryReactorClock()
        d = TCP4ClientEndpoint(reactor, "::1", 80).connect(CountingFactory())
        self.assertEqual(reactor.tcpClients, [])
        self.failureResultOf(d)

    def test_interruptionPropagates(self) -> None:
        """
        A C{KeyboardInterrupt} from C{connectTCP} on the direct path leaves
        C{connect} as it would a race (issue 17): it is no connection
        failure to report through the L{Deferred}.
        """

        def interrupt(*args: Any, **kwargs: Any) -> Any:
            raise KeyboardInterrupt()

        for endpoint in (TCP4ClientEndpoint, HostClientEndpoint):
            reactor = MemoryReactorClock()
            reactor.connectTCP = interrupt  # type: ignore[method-assign]
            self.assertRaises(
                KeyboardInterrupt,
                endpoint(reactor, "127.0.0.1", 80).connect,
                CountingFactory(),
            )

    def test_hostWorkedOutOnce(self) -> None:
        """
        The host text is worked out by the first connect and reused.
        """
        reactor = MemoryReactorClock()
        endpoint = TCP4ClientEndpoint(reactor, b"127.0.0.1", 80)
        endpoint.connect(CountingFactory())
        endpoint._hostGiven = "192.0.2.9"
        endpoint.connect(CountingFactory())
        self.assertEqual([c[0] for c in reactor.tcpClients], ["127.0.0.1"] * 2)


class StartWhileConnectingTests(SynchronousTestCase):
    """
    A connect to a name starts the user's factory from the connect on, as
    Twisted's C{tcp:} does, and stops it once the connect has its result.
    """

    def test_startedThenStopped(self) -> None:
        reactor = MemoryReactorClock()
        reactor.installNameResolver(FakeResolver(reactor, {}, {"example.org": 5}))
        factory = CountingFactory()
        d = TCP4ClientEndpoint(reactor, "example.org", 80).connect(factory)
        self.assertEqual((factory.starts, factory.stops), (1, 0))
        d.cancel()
        self.failureResultOf(d, ConnectingCancelledError)
        self.assertEqual((factory.starts, factory.stops), (1, 1))

    def test_winnerHoldsItsOwnStart(self) -> None:
        """
        The winning connection's start outlives the connect's own, so the
        factory is never stopped between the two.
        """
        d: Deferred[None] = Deferred()
        factory = CountingFactory()
        startWhileConnecting(factory, d)
        factory.doStart()  # the winner's
        d.callback(None)
        self.assertEqual((factory.starts, factory.stops), (2, 1))

    def test_undeclaredFactoryLeftAlone(self) -> None:
        """
        A factory that does not declare L{IProtocolFactory} (Twisted's tests
        pass a bare C{object()}) is not started.
        """
        d: Deferred[None] = Deferred()
        startWhileConnecting(object(), d)  # type: ignore[arg-type]
        d.callback(None)
        self.assertIsNone(self.successResultOf(d))

    def test_startRaises(self) -> None:
        """
        A factory that cannot start fails the connect with its error, and
        leaves no timer or resolution behind.
        """

        class Unstartable(CountingFactory):
            def doStart(self) -> None:
                raise ZeroDivisionError()

        reactor = MemoryReactorClock()
        reactor.installNameResolver(FakeResolver(reactor, {}, {"example.org": 5}))
        d = TCP4ClientEndpoint(reactor, "example.org", 80).connect(Unstartable())
        self.failureResultOf(d, ZeroDivisionError)
        self.assertEqual(reactor.getDelayedCalls(), [])
        self.assertEqual(reactor.tcpClients, [])
