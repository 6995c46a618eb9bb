"""
Tests for L{txendpoints._relay._service}: the relay service, its options
and its log filter, in memory.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import (
    ConnectionRefusedError,
)
from twisted.internet.interfaces import IStreamClientEndpoint, IStreamServerEndpoint
from twisted.internet.testing import (
    MemoryReactorClock,
)
from twisted.logger import LogLevel, PredicateResult, capturedLogs, formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints import ListeningPorts, TCP4ServerEndpoint
from txendpoints._relay._factory import RelayFactory
from txendpoints._relay._service import (
    RelayLogPredicate,
    RelayService,
    parseEndpoints,
    parseGrace,
    parseMaxConnections,
)
from txendpoints._stdio._transport import PipeAddress

from .test_relay_relay import (
    PEER,
    ControlledEndpoint,
    FakePort,
    HalfClosingTransport,
    RecordingServerEndpoint,
)
from .test_strings_clients import FakePort as FakeAddressPort


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
        self.assertEqual(event["client"], "tx-tcp6:\\:\\:1:4321")
        self.assertEqual(event["connectTo"], "tcp:127.0.0.1:80")
        self.assertEqual(
            formatEvent(event),
            "listening on [::1]:4321 (connect with tx-tcp6:\\:\\:1:4321), "
            "relaying to tcp:127.0.0.1:80",
        )
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

    def test_everyAddressLogged(self) -> None:
        """
        Each address of a port of several is logged with its client string;
        one that no client string reaches, without.
        """
        ports = ListeningPorts(
            [
                FakeAddressPort(IPv4Address("TCP", "0.0.0.0", 80)),
                FakeAddressPort(IPv6Address("TCP", "::", 80)),
                FakeAddressPort(PipeAddress()),
            ]
        )
        service = RelayService(
            MemoryReactorClock(),
            RecordingServerEndpoint(succeed(ports)),
            ControlledEndpoint(),
            connectName="tcp:h:1",
        )
        with capturedLogs() as events:
            service.startService()
        self.assertEqual(
            [formatEvent(e) for e in events],
            [
                "listening on 0.0.0.0:80 (connect with tx-tcp4:127.0.0.1:80), "
                "relaying to tcp:h:1",
                "listening on [::]:80 (connect with tx-tcp6:\\:\\:1:80), "
                "relaying to tcp:h:1",
                "listening on standard I/O, relaying to tcp:h:1",
            ],
        )
        self.assertTrue(all(e["relayListening"] for e in events))

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
        The grace period runs while the port stops, not after: a port
        that waits for its connections to close could be put off for ever
        by output that nobody reads.
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
            str(e.exception),
            "LISTEN: tx-tcp4: port 'http' is not a number from 0 to 65535",
        )
        with self.assertRaises(ValueError) as e:
            parseEndpoints(reactor, "tx-tcp4:0", "nope:1")
        self.assertIn("CONNECT: unknown client endpoint type 'nope'", str(e.exception))
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
        self.assertEqual(decide(True, **ours, relayStats=True), yes)
        self.assertEqual(decide(False, **other), no)
        self.assertEqual(decide(True, **{**other, "log_level": LogLevel.error}), yes)


class BrokenPort(FakePort):
    """
    A port whose C{stopListening} fails, at once or later.
    """

    def __init__(self, synchronously: bool) -> None:
        super().__init__()
        self.synchronously = synchronously

    def stopListening(self) -> Deferred[None]:
        if self.synchronously:
            raise RuntimeError("cannot stop")
        return fail(RuntimeError("cannot stop"))


class StopFailureTests(SynchronousTestCase):
    """
    A port that fails to stop listening does not keep the relays from
    draining, nor leave the grace timer behind.
    """

    def stopWith(self, port: FakePort) -> None:
        reactor = MemoryReactorClock()
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
        with capturedLogs() as events:
            d = service.stopService()
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertIn("stop listening", events[0]["log_format"])
        self.assertNoResult(d)
        # Draining: the relay is aborted when the grace period is over.
        reactor.advance(3)
        self.assertTrue(transport.aborted)
        self.assertIsNone(self.successResultOf(d))
        self.assertEqual(reactor.getDelayedCalls(), [])

    def test_stopListeningRaises(self) -> None:
        self.stopWith(BrokenPort(synchronously=True))

    def test_stopListeningFails(self) -> None:
        self.stopWith(BrokenPort(synchronously=False))

    def test_finishedWithinGrace(self) -> None:
        """
        Relays that finish within the grace period leave no timer behind
        either.
        """
        reactor = MemoryReactorClock()
        service = RelayService(
            reactor,
            RecordingServerEndpoint(succeed(BrokenPort(synchronously=False))),
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
        self.flushLoggedErrors(RuntimeError)
        transport.loseConnection()
        self.successResultOf(d)
        self.assertEqual(reactor.getDelayedCalls(), [])


class RaiseSynchronouslyTests(SynchronousTestCase):
    """
    Under twist and twistd, which start services before the reactor runs,
    a listen that fails at once raises from C{startService}, as Twisted's
    own C{tcp:} does, so that the command exits non-zero.
    """

    def service(self, listening: Deferred[Any], failures: list[Failure]) -> Any:
        return RelayService(
            MemoryReactorClock(),
            RecordingServerEndpoint(listening),
            ControlledEndpoint(),
            onListenFailed=failures.append,
            listenName="tx-tcp4:80",
            raiseSynchronously=True,
        )

    def test_failsAtOnce(self) -> None:
        failures: list[Failure] = []
        service = self.service(fail(OSError("address in use")), failures)
        with capturedLogs() as events:
            self.assertRaises(OSError, service.startService)
        self.assertEqual(failures, [])
        self.assertEqual(events[0]["log_level"], LogLevel.critical)

    def test_failsLater(self) -> None:
        """
        A listen that fails once the reactor runs cannot raise to anyone;
        C{onListenFailed} is called instead.
        """
        failures: list[Failure] = []
        listening: Deferred[Any] = Deferred()
        service = self.service(listening, failures)
        service.startService()
        listening.errback(OSError("address in use"))
        self.assertEqual([f.type for f in failures], [OSError])
        self.assertIsNone(self.successResultOf(service.listening))


class ExitOnListenFailureTests(SynchronousTestCase):
    """
    C{twist tx-relay} stops the reactor when listening fails once it runs,
    and exits 1.
    """

    def test_stopsAndExits(self) -> None:
        from txendpoints._relay import _twist

        class Reactor:
            running = True
            stopped = 0

            def stop(self) -> None:
                self.stopped += 1

        reactor = Reactor()
        atExit: list[Any] = []
        exits: list[int] = []
        self.patch(atexit, "register", atExit.append)
        self.patch(os, "_exit", exits.append)
        _twist._stopAndExitNonZero(reactor)(Failure(OSError("in use")))
        self.assertEqual(reactor.stopped, 1)
        self.assertEqual(exits, [])
        [exit] = atExit
        exit()
        self.assertEqual(exits, [1])
