"""
Tests for L{txendpoints._client._race}: the staggered-attempts engine.  The
stand-in protocol's own behaviour is tested in L{tests.test_client_attempt}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import (
    ConnectError,
    ConnectingCancelledError,
    ConnectionRefusedError,
    NoProtocol,
    TimeoutError,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.testing import MemoryReactor, MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import (
    ConnectAttemptsError,
    HostClientEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
)
from txendpoints._client._race import StaggeredAttempts, clampAttemptDelay
from txendpoints._net import formatAddress
from txendpoints.testing import FakeResolver

V6A = IPv6Address("TCP", "2001:db8::1", 80)
V6B = IPv6Address("TCP", "2001:db8::2", 80)
V4A = IPv4Address("TCP", "192.0.2.1", 80)
V4B = IPv4Address("TCP", "192.0.2.2", 80)
V4C = IPv4Address("TCP", "192.0.2.3", 80)


class Recorder(Protocol):
    """
    Records the events it sees.
    """

    def __init__(self) -> None:
        self.events: list[Any] = []

    def connectionMade(self) -> None:
        self.events.append("made")

    def dataReceived(self, data: bytes) -> None:
        self.events.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.events.append("lost")


class CountingFactory(Factory):
    """
    Counts built protocols and start/stop calls.
    """

    protocol = Recorder

    def __init__(self) -> None:
        self.built: list[Recorder] = []
        self.starts = 0
        self.stops = 0

    def doStart(self) -> None:
        self.starts += 1

    def doStop(self) -> None:
        self.stops += 1

    def buildProtocol(self, addr: Any) -> Any:
        proto = Recorder()
        self.built.append(proto)
        return proto


def refuse(reactor: MemoryReactorClock, index: int) -> None:
    """
    Make the C{index}th connection attempt fail with a refusal.
    """
    factory = reactor.tcpClients[index][2]
    factory.clientConnectionFailed(
        reactor.connectors[index], Failure(ConnectionRefusedError())
    )


def accept(reactor: MemoryReactorClock, index: int) -> StringTransport:
    """
    Make the C{index}th connection attempt connect.

    @return: The transport of the connection.
    """
    factory = reactor.tcpClients[index][2]
    proto = factory.buildProtocol(reactor.connectors[index].getDestination())
    transport = StringTransport()
    if proto is not None:
        proto.makeConnection(transport)
    return transport


class HelperTests(SynchronousTestCase):
    """
    The pure helpers: delay clamping, address formatting.
    """

    def test_clamp(self) -> None:
        self.assertEqual(clampAttemptDelay(0), 0)
        self.assertEqual(clampAttemptDelay(0.001), 0.01)
        self.assertEqual(clampAttemptDelay(0.25), 0.25)
        self.assertEqual(clampAttemptDelay(30), 2.0)

    def test_formatAddress(self) -> None:
        self.assertEqual(formatAddress(V6A), "[2001:db8::1]:80")
        self.assertEqual(formatAddress(V4A), "192.0.2.1:80")

    def test_errorMessage(self) -> None:
        error = ConnectAttemptsError(
            "example.org",
            80,
            [
                (V6A, Failure(ConnectionRefusedError())),
                (V4A, Failure(TimeoutError())),
            ],
        )
        self.assertIsInstance(error, ConnectError)
        self.assertEqual(
            str(error),
            "all 2 addresses of example.org port 80 failed: "
            "[2001:db8::1]:80: Connection was refused by other side; "
            "192.0.2.1:80: User timeout caused connection failure",
        )
        self.assertEqual([a for a, f in error.failures], [V6A, V4A])


class StaggeredAttemptsTests(SynchronousTestCase):
    """
    L{StaggeredAttempts} starts attempts on time, picks one winner and
    leaves nothing behind.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.factory = CountingFactory()

    def race(
        self, delay: float = 0.25, timeout: float | None = 10
    ) -> StaggeredAttempts:
        return StaggeredAttempts(
            self.reactor,
            self.factory,
            "example.org",
            80,
            V4A,
            delay,
            timeout,
        )

    def cancel(self, race: StaggeredAttempts) -> None:
        race.deferred.cancel()
        self.failureResultOf(race.deferred, ConnectingCancelledError)

    def hosts(self) -> list[str]:
        return [c[0] for c in self.reactor.tcpClients]

    def tearDown(self) -> None:
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_winnerOnly(self) -> None:
        """
        Only the winner's protocol is built, the user's factory is started
        once, and the losers are stopped.
        """
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        transport = accept(self.reactor, 1)
        proto: Any = self.successResultOf(race.deferred)
        self.assertIs(proto, self.factory.built[0])
        self.assertEqual(len(self.factory.built), 1)
        self.assertEqual(self.factory.starts, 1)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        self.assertFalse(self.reactor.connectors[1].stoppedConnecting)
        self.assertEqual(proto.events, ["made"])
        self.assertIs(proto.transport, transport)

    def test_lateSuccessDeclined(self) -> None:
        """
        An attempt that connects after another won never builds a protocol,
        and a connection that made it that far is closed.
        """
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        accept(self.reactor, 1)
        late = self.reactor.tcpClients[0][2]
        self.assertIsNone(late.buildProtocol(V4A))
        self.assertEqual(len(self.factory.built), 1)

    def test_lateConnectionMadeAborted(self) -> None:
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        early: Any = self.reactor.tcpClients[0][2].buildProtocol(V4A)
        accept(self.reactor, 1)
        transport = StringTransport()
        early.makeConnection(transport)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(self.factory.built), 1)

    def test_factoryStoppedWithWinner(self) -> None:
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        accept(self.reactor, 1)
        self.successResultOf(race.deferred)
        self.reactor.tcpClients[0][2].doStop()
        self.assertEqual(self.factory.stops, 0)
        self.reactor.tcpClients[1][2].doStop()
        self.assertEqual(self.factory.stops, 1)

    def test_noProtocol(self) -> None:
        self.factory.buildProtocol = lambda addr: None  # type: ignore[method-assign]
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        transport = accept(self.reactor, 0)
        self.failureResultOf(race.deferred, NoProtocol)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_factoryRaises(self) -> None:
        def boom(addr: Any) -> Any:
            raise ZeroDivisionError()

        self.factory.buildProtocol = boom  # type: ignore[method-assign]
        race = self.race()
        race.add([V4A])
        race.finish(lambda: AssertionError())
        accept(self.reactor, 0)
        self.failureResultOf(race.deferred, ZeroDivisionError)

    def test_connectionMadeRaises(self) -> None:
        """
        An exception from the winner's C{connectionMade} fails the Deferred
        (the deadline is already cancelled, so it would otherwise never
        fire) and still reaches the transport, which drops the connection.
        """

        class Raises(Recorder):
            def connectionMade(self) -> None:
                raise ZeroDivisionError()

        self.factory.buildProtocol = lambda addr: Raises()  # type: ignore[method-assign]
        race = self.race(timeout=1)
        race.add([V4A])
        race.finish(lambda: AssertionError())
        self.assertRaises(ZeroDivisionError, accept, self.reactor, 0)
        self.failureResultOf(race.deferred, ZeroDivisionError)

    def test_stagger(self) -> None:
        race = self.race(0.1)
        race.add([V4A, V4B, V4C])
        race.finish(lambda: AssertionError())
        self.assertEqual(self.hosts(), ["192.0.2.1"])
        self.reactor.advance(0.099)
        self.assertEqual(len(self.hosts()), 1)
        self.reactor.advance(0.001)
        self.assertEqual(len(self.hosts()), 2)
        self.reactor.advance(0.1)
        self.assertEqual(self.hosts(), ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        self.cancel(race)

    def test_refusalMovesOnAtOnce(self) -> None:
        race = self.race()
        race.add([V4A, V4B, V4C])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.01)
        refuse(self.reactor, 0)
        self.assertEqual(len(self.hosts()), 2)
        # The new attempt has a full delay of its own.
        self.reactor.advance(0.249)
        self.assertEqual(len(self.hosts()), 2)
        self.reactor.advance(0.001)
        self.assertEqual(len(self.hosts()), 3)
        self.cancel(race)

    def test_olderFailureDoesNotHurry(self) -> None:
        """
        Only the failure of the latest attempt starts the next one early.
        """
        race = self.race()
        race.add([V4A, V4B, V4C])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        refuse(self.reactor, 0)
        self.assertEqual(len(self.hosts()), 2)
        self.reactor.advance(0.25)
        self.assertEqual(len(self.hosts()), 3)
        self.cancel(race)

    def test_zeroDelayWaitsForEach(self) -> None:
        race = self.race(0)
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.reactor.advance(5)
        self.assertEqual(len(self.hosts()), 1)
        refuse(self.reactor, 0)
        self.assertEqual(len(self.hosts()), 2)
        refuse(self.reactor, 1)
        self.failureResultOf(race.deferred, ConnectAttemptsError)

    def test_singleFailurePassesThrough(self) -> None:
        race = self.race()
        race.add([V4A])
        race.finish(lambda: AssertionError())
        refuse(self.reactor, 0)
        failure = self.failureResultOf(race.deferred)
        self.assertIs(type(failure.value), ConnectionRefusedError)

    def test_allFail(self) -> None:
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        refuse(self.reactor, 0)
        refuse(self.reactor, 1)
        error = self.failureResultOf(race.deferred, ConnectAttemptsError).value
        self.assertEqual([a for a, f in error.failures], [V4A, V4B])
        self.assertEqual((error.host, error.port), ("example.org", 80))

    def test_noAddresses(self) -> None:
        race = self.race()
        race.finish(lambda: ValueError("nothing"))
        self.assertEqual(
            str(self.failureResultOf(race.deferred, ValueError).value), "nothing"
        )

    def test_connectRaises(self) -> None:
        """
        An exception from C{connectTCP} is that attempt's failure; the next
        address is tried at once.
        """
        calls = []
        original = self.reactor.connectTCP

        def connectTCP(host: str, *a: Any, **kw: Any) -> Any:
            calls.append(host)
            if host == "192.0.2.1":
                raise ConnectError(string="bad")
            return original(host, *a, **kw)

        self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.assertEqual(calls, ["192.0.2.1", "192.0.2.2"])
        refuse(self.reactor, 0)
        error = self.failureResultOf(race.deferred, ConnectAttemptsError).value
        self.assertIn(
            "192.0.2.1:80: An error occurred while connecting: bad", str(error)
        )

    def test_addLater(self) -> None:
        """
        Addresses added while attempts run wait for the delay of the latest
        attempt, and duplicates are ignored.
        """
        race = self.race()
        race.add([V4A])
        self.reactor.advance(0.1)
        race.add([V4A, V4B])
        self.assertEqual(len(self.hosts()), 1)
        self.reactor.advance(0.15)
        self.assertEqual(self.hosts(), ["192.0.2.1", "192.0.2.2"])
        self.reactor.advance(1)
        race.add([V4C])
        self.assertEqual(len(self.hosts()), 3)
        race.finish(lambda: AssertionError())
        refuse(self.reactor, 0)
        refuse(self.reactor, 1)
        refuse(self.reactor, 2)
        self.failureResultOf(race.deferred, ConnectAttemptsError)

    def test_deadline(self) -> None:
        race = self.race(timeout=1)
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.999)
        self.assertNoResult(race.deferred)
        self.reactor.advance(0.001)
        error = self.failureResultOf(race.deferred, TimeoutError).value
        self.assertEqual(
            str(error),
            "User timeout caused connection failure: connecting to "
            "example.org port 80 took longer than 1 seconds.",
        )
        self.assertTrue(all(c.stoppedConnecting for c in self.reactor.connectors))
        self.assertEqual([c[3] for c in self.reactor.tcpClients], [1, 1])

    def test_cancelStopsAndCleansUp(self) -> None:
        race = self.race()
        cleaned: list[int] = []
        race.onEnd(lambda: cleaned.append(1))
        race.add([V4A, V4B])
        race.deferred.cancel()
        error = self.failureResultOf(race.deferred, ConnectingCancelledError).value
        self.assertIs(error.address, V4A)
        self.assertEqual(cleaned, [1])
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        # The stop reports a failure back; it is ignored.
        refuse(self.reactor, 0)
        race.add([V4C])
        self.assertEqual(len(self.hosts()), 1)

    def test_failEnds(self) -> None:
        race = self.race()
        race.add([V4A])
        race.fail(Failure(ValueError("x")))
        self.failureResultOf(race.deferred, ValueError)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)

    def test_loneAddressNoTimer(self) -> None:
        """
        A single address given with the finish starts at once and arms no
        attempt delay, since nothing follows it.
        """
        race = self.race(timeout=None)
        race.finish(lambda: AssertionError(), [V4A])
        self.assertEqual(self.hosts(), ["192.0.2.1"])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        refuse(self.reactor, 0)
        self.failureResultOf(race.deferred, ConnectionRefusedError)

    def test_lastAddressesWithFinish(self) -> None:
        """
        Addresses given with the finish follow those added before, and the
        last of them arms no attempt delay.
        """
        race = self.race(timeout=None)
        race.add([V4A])
        race.finish(lambda: AssertionError(), [V4A, V4B])
        self.assertEqual(self.hosts(), ["192.0.2.1"])
        self.reactor.advance(0.25)
        self.assertEqual(self.hosts(), ["192.0.2.1", "192.0.2.2"])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        refuse(self.reactor, 1)
        refuse(self.reactor, 0)
        error = self.failureResultOf(race.deferred, ConnectAttemptsError).value
        self.assertEqual([a for a, f in error.failures], [V4B, V4A])

    def test_finishEndsTheDelay(self) -> None:
        """
        A finish that leaves nothing to start cancels the running attempt
        delay: it has nothing to release.
        """
        race = self.race(timeout=None)
        race.add([V4A])
        self.assertEqual(len(self.reactor.getDelayedCalls()), 1)
        race.finish(lambda: AssertionError())
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertNoResult(race.deferred)
        refuse(self.reactor, 0)
        self.failureResultOf(race.deferred, ConnectionRefusedError)

    def test_finishAfterEveryFailure(self) -> None:
        """
        When every attempt failed before the finish, the finish ends the
        race.
        """
        race = self.race()
        race.add([V4A, V4B])
        refuse(self.reactor, 0)
        refuse(self.reactor, 1)
        self.assertNoResult(race.deferred)
        race.finish(lambda: AssertionError())
        self.failureResultOf(race.deferred, ConnectAttemptsError)

    def test_synchronousFailuresLoop(self) -> None:
        """
        A thousand addresses that each fail inside C{connectTCP} are tried
        one after the other in a loop, not by recursion.
        """

        def connectTCP(*args: Any, **kwargs: Any) -> Any:
            raise ConnectError(string="no route")

        self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]
        addresses = [
            IPv4Address("TCP", f"10.0.{i // 256}.{i % 256}", 80) for i in range(1000)
        ]
        race = self.race()
        race.add(addresses)
        race.finish(lambda: AssertionError())
        error = self.failureResultOf(race.deferred, ConnectAttemptsError).value
        self.assertEqual([a for a, f in error.failures], addresses)

    def test_synchronousReportsLoop(self) -> None:
        """
        So are a thousand whose connector reports the failure before
        C{connectTCP} returns.
        """
        original = self.reactor.connectTCP

        def connectTCP(host: str, port: int, factory: Any, *a: Any, **kw: Any) -> Any:
            connector = original(host, port, factory, *a, **kw)
            factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))
            return connector

        self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]
        addresses = [
            IPv4Address("TCP", f"10.0.{i // 256}.{i % 256}", 80) for i in range(1000)
        ]
        race = self.race()
        race.add(addresses)
        race.finish(lambda: AssertionError())
        error = self.failureResultOf(race.deferred, ConnectAttemptsError).value
        self.assertEqual(len(error.failures), 1000)

    def test_factoryStartRaises(self) -> None:
        """
        A factory whose C{doStart} raises fails the race at once with that
        error, even with no deadline; nothing is left running and no later
        connection starts it again.
        """

        class Unstartable(CountingFactory):
            def doStart(self) -> None:
                self.starts += 1
                raise ZeroDivisionError()

        self.factory = Unstartable()
        race = self.race(timeout=None)
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        transport = accept(self.reactor, 0)
        self.failureResultOf(race.deferred, ZeroDivisionError)
        self.assertTrue(transport.disconnecting)
        self.assertTrue(self.reactor.connectors[1].stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        accept(self.reactor, 1)
        self.assertEqual((self.factory.starts, self.factory.built), (1, []))
        self.reactor.tcpClients[0][2].doStop()
        self.assertEqual(self.factory.stops, 0)

    def test_allFailMatchesTheLast(self) -> None:
        """
        The race's L{ConnectAttemptsError} also matches the last attempt's
        failure, as errback code written for Twisted's endpoints checks.
        """
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        refuse(self.reactor, 0)
        refuse(self.reactor, 1)
        failure = self.failureResultOf(race.deferred, ConnectionRefusedError)
        self.assertIsInstance(failure.value, ConnectAttemptsError)


class NoClockTests(SynchronousTestCase):
    """
    A race to an address literal needs no clock, as Twisted's endpoints
    need only C{IReactorTCP}: C{connectTCP}'s own timeout is the deadline.
    """

    def test_literalWithoutClock(self) -> None:
        for cls, host in [
            (TCP4ClientEndpoint, "127.0.0.1"),
            (TCP6ClientEndpoint, "::1"),
            (HostClientEndpoint, "::1"),
        ]:
            reactor = MemoryReactor()
            factory = CountingFactory()
            d = cls(reactor, host, 80, timeout=5).connect(factory)
            self.assertEqual(
                [c[:2] + c[3:4] for c in reactor.tcpClients], [(host, 80, 5)]
            )
            accept(reactor, 0)  # type: ignore[arg-type]
            self.assertIs(self.successResultOf(d), factory.built[0])

    def test_literalTimeoutIsTheConnectorsOwn(self) -> None:
        """
        With a clock too, a literal arms no deadline of its own; the
        connector's timeout fails the connect with Twisted's L{TimeoutError}.
        """
        reactor = MemoryReactorClock()
        d = TCP4ClientEndpoint(reactor, "127.0.0.1", 80, timeout=5).connect(
            CountingFactory()
        )
        self.assertEqual(reactor.getDelayedCalls(), [])
        reactor.tcpClients[0][2].clientConnectionFailed(
            reactor.connectors[0], Failure(TimeoutError())
        )
        self.failureResultOf(d, TimeoutError)

    def test_literalCancelledWithoutClock(self) -> None:
        reactor = MemoryReactor()
        d = TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(CountingFactory())
        d.cancel()
        self.failureResultOf(d, ConnectingCancelledError)
        self.assertTrue(reactor.connectors[0].stoppedConnecting)


class NotAConnectionFailureTests(SynchronousTestCase):
    """
    Only connection failures count against an address (issue 17, fault 1):
    any other exception from C{connectTCP} fails the race at once with
    itself, and one that is not an L{Exception} propagates.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.original = self.reactor.connectTCP
        self.calls: list[str] = []

    def raising(self, bad: str, error: BaseException) -> None:
        def connectTCP(host: str, *a: Any, **kw: Any) -> Any:
            self.calls.append(host)
            if host == bad:
                raise error
            return self.original(host, *a, **kw)

        self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]

    def race(self) -> StaggeredAttempts:
        return StaggeredAttempts(
            self.reactor, CountingFactory(), "example.org", 80, V4A, 0.25, 10
        )

    def test_osErrorCounts(self) -> None:
        """
        An L{OSError} is a connection failure: the next address is tried.
        """
        self.raising("192.0.2.1", OSError(101, "Network is unreachable"))
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.assertEqual(self.calls, ["192.0.2.1", "192.0.2.2"])
        refuse(self.reactor, 0)
        error = self.failureResultOf(race.deferred, ConnectAttemptsError).value
        self.assertIn("Network is unreachable", str(error))

    def test_programmingErrorFailsAtOnce(self) -> None:
        """
        A L{TypeError} from C{connectTCP} of a later address fails the race
        with itself; the attempts started are stopped, no other starts, and
        nothing is left scheduled.
        """
        self.raising("192.0.2.2", TypeError("bindAddress of the wrong family"))
        race = self.race()
        race.add([V4A, V4B, V4C])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        failure = self.failureResultOf(race.deferred, TypeError)
        self.assertNotIsInstance(failure.value, ConnectAttemptsError)
        self.assertEqual(str(failure.value), "bindAddress of the wrong family")
        self.assertEqual(self.calls, ["192.0.2.1", "192.0.2.2"])
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_firstRaisesException(self) -> None:
        """
        So does any L{Exception} a custom reactor raises for the first
        address: no other address is tried.
        """
        self.raising("192.0.2.1", RuntimeError("custom reactor"))
        race = self.race()
        race.add([V4A, V4B])
        race.finish(lambda: AssertionError())
        self.failureResultOf(race.deferred, RuntimeError)
        self.assertEqual(self.calls, ["192.0.2.1"])
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_keyboardInterruptPropagates(self) -> None:
        """
        A L{KeyboardInterrupt} raised by C{connectTCP} propagates out of the
        call that started the attempt; the race ends with it too, so that
        nothing waits for ever.
        """
        self.raising("192.0.2.1", KeyboardInterrupt())
        race = self.race()
        self.assertRaises(KeyboardInterrupt, race.add, [V4A, V4B])
        race.finish(lambda: AssertionError())
        self.failureResultOf(race.deferred, KeyboardInterrupt)
        self.assertEqual(self.calls, ["192.0.2.1"])
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_systemExitLoneAddress(self) -> None:
        """
        L{SystemExit} for a lone address propagates too, and is not
        reported as an empty connection failure.
        """
        self.raising("192.0.2.1", SystemExit(3))
        race = self.race()
        self.assertRaises(SystemExit, race.finish, lambda: AssertionError(), [V4A])
        self.failureResultOf(race.deferred, SystemExit)

    def test_interruptAfterDelay(self) -> None:
        """
        An interrupt from an attempt started by the attempt delay's timer
        ends the race with it and is logged, as the reactor would log it.
        """
        self.raising("192.0.2.2", KeyboardInterrupt())
        race = self.race()
        race.add([V4A, V4B, V4C])
        race.finish(lambda: AssertionError())
        self.reactor.advance(0.25)
        self.failureResultOf(race.deferred, KeyboardInterrupt)
        self.assertEqual(len(self.flushLoggedErrors(KeyboardInterrupt)), 1)
        self.assertEqual(self.calls, ["192.0.2.1", "192.0.2.2"])
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)

    def test_endpointConnect(self) -> None:
        """
        Through an endpoint: a L{TypeError} fails C{connect} with itself.
        """
        self.raising("2001:db8::1", TypeError("mismatched bind family"))
        resolver = FakeResolver(
            self.reactor, {"example.org": ["2001:db8::1", "192.0.2.1"]}
        )
        self.reactor.installNameResolver(resolver)
        endpoint = HostClientEndpoint(self.reactor, "example.org", 80)
        d = endpoint.connect(CountingFactory())
        self.failureResultOf(d, TypeError)
        self.assertEqual(self.calls, ["2001:db8::1"])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
