"""
Tests for what L{RelaySettings <txendpoints._relay._options.RelaySettings>}
makes a relay do, in memory: connect retry, the idle timeout, the PROXY
protocol header, access rules, the per-source limit, statistics, and the
relay's listen queue.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import succeed
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._access import AccessPolicy, parseRule
from txendpoints._relay._factory import RelayFactory
from txendpoints._relay._options import RelaySettings
from txendpoints._relay._relay import EARLY_LIMIT
from txendpoints._relay._service import RelayService, parseEndpoints, withRelayBacklog

from .test_relay_relay import (
    PEER,
    ControlledEndpoint,
    FakePort,
    HalfClosingTransport,
    RecordingServerEndpoint,
    RelayTestCase,
)


def text(event: dict[str, Any]) -> str:
    return str(event["log_format"].format(**event))


class SettingsTestCase(RelayTestCase):
    def use(self, **settings: Any) -> None:
        self.factory = RelayFactory(
            self.reactor, self.endpoint, settings=RelaySettings(**settings)
        )


class RetryTests(SettingsTestCase):
    def test_retriedThenRelayed(self) -> None:
        """
        After a refusal the relay waits, connects again and relays what the
        client sent meanwhile.
        """
        self.use(connectRetry=2, retryDelay=1.0)
        client, clientTransport = self.accept()
        with capturedLogs() as events:
            self.endpoint.fail(ConnectionRefusedError("not yet"))
        [retry] = events
        self.assertEqual(retry["log_level"], LogLevel.info)
        self.assertEqual(
            text(retry),
            f"#1 from 192.0.2.7:5555: connecting to {self.factory.connectName} "
            "failed: Connection was refused by other side: not yet.; "
            "retry 1 of 2 in 1 s",
        )
        self.assertTrue(clientTransport.connected)
        client.dataReceived(b"held")
        self.reactor.advance(0.5)
        self.assertEqual(len(self.endpoint.attempts), 1)
        self.reactor.advance(0.5)
        self.assertEqual(len(self.endpoint.attempts), 2)
        self.endpoint.fail(ConnectionRefusedError())
        self.reactor.advance(2)
        serverTransport = HalfClosingTransport()
        self.endpoint.succeed(serverTransport)
        self.assertEqual(serverTransport.value(), b"held")
        self.assertEqual(self.factory.stats.failed, 0)

    def test_heldBytesBounded(self) -> None:
        self.use(connectRetry=None)
        client, clientTransport = self.accept()
        self.endpoint.fail(ConnectionRefusedError())
        client.dataReceived(b"x" * EARLY_LIMIT)
        self.assertEqual(clientTransport.producerState, "paused")
        self.reactor.advance(1)
        self.endpoint.succeed(HalfClosingTransport())
        self.assertEqual(clientTransport.producerState, "producing")

    def test_givesUp(self) -> None:
        self.use(connectRetry=1)
        _client, clientTransport = self.accept()
        self.endpoint.fail(ConnectionRefusedError())
        self.reactor.advance(1)
        with capturedLogs() as events:
            self.endpoint.fail(ConnectionRefusedError("still not"))
        self.assertFalse(clientTransport.connected)
        self.assertEqual(events[0]["log_level"], LogLevel.warn)
        self.assertIn("still not", events[0]["reason"])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(
            (self.factory.stats.failed, self.factory.stats.finished), (1, 1)
        )

    def test_clientLeavesWhileWaiting(self) -> None:
        """
        A client that leaves stops the retries: the timer is cancelled and
        no further attempt is made.
        """
        self.use(connectRetry=None)
        _client, clientTransport = self.accept()
        self.endpoint.fail(ConnectionRefusedError())
        with capturedLogs() as events:
            clientTransport.loseConnection()
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.reactor.advance(100)
        self.assertEqual(len(self.endpoint.attempts), 1)
        self.assertEqual(self.factory.relays, set())
        self.assertEqual(
            [e["ending"] for e in events if "ending" in e], ["closed by the client"]
        )
        self.assertEqual(self.factory.stats.failed, 0)

    def test_clientLeavesWhileRetrying(self) -> None:
        self.use(connectRetry=None)
        _client, clientTransport = self.accept()
        self.endpoint.fail(ConnectionRefusedError())
        self.reactor.advance(1)
        clientTransport.loseConnection()
        self.assertEqual(self.endpoint.cancelled, 1)
        self.assertEqual(self.factory.relays, set())

    def test_abortedWhileWaiting(self) -> None:
        """
        At shutdown, a relay waiting to retry is aborted like any other:
        no further attempt, and the client is closed.
        """
        self.use(connectRetry=None)
        _client, clientTransport = self.accept()
        self.endpoint.fail(ConnectionRefusedError())
        with capturedLogs() as events:
            d = self.factory.drain(0)
            self.reactor.advance(0)
        self.successResultOf(d)
        self.assertTrue(clientTransport.aborted)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(len(self.endpoint.attempts), 1)
        self.assertEqual(
            [e["ending"] for e in events if "ending" in e], ["aborted at shutdown"]
        )

    def test_noRetryByDefault(self) -> None:
        _client, clientTransport = self.accept()
        self.endpoint.fail(ConnectionRefusedError())
        self.assertFalse(clientTransport.connected)
        self.assertEqual(self.reactor.getDelayedCalls(), [])


class StallingTransport(HalfClosingTransport):
    """
    A transport whose close waits for a peer that reads nothing.
    """

    def loseConnection(self) -> None:
        self.disconnecting = True

    def abortConnection(self) -> None:
        self.aborted = True
        super().loseConnection()


class IdleTests(SettingsTestCase):
    def test_closesBothSides(self) -> None:
        self.use(idleTimeout=5.0)
        client, clientTransport, server, serverTransport = self.relayed()
        self.reactor.advance(4)
        client.dataReceived(b"x")
        self.reactor.advance(4)
        server.dataReceived(b"y")
        self.reactor.advance(4.9)
        self.assertTrue(clientTransport.connected)
        with capturedLogs() as events:
            self.reactor.advance(0.1)
        self.assertFalse(clientTransport.connected)
        self.assertFalse(serverTransport.connected)
        self.assertFalse(clientTransport.aborted or serverTransport.aborted)
        self.assertEqual(
            text(events[0]), "#1 from 192.0.2.7:5555: idle for 5 s; closing both sides"
        )
        self.assertEqual(events[-1]["ending"], "idle for 5 s")
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_abortedIfCloseStalls(self) -> None:
        self.use(idleTimeout=5.0)
        protocol, _ = self.accept()
        clientTransport = StallingTransport(peerAddress=PEER)
        clientTransport.protocol = protocol
        protocol.transport = clientTransport
        serverTransport = StallingTransport()
        self.endpoint.succeed(serverTransport)
        self.reactor.advance(5)
        self.assertTrue(clientTransport.disconnecting)
        self.assertFalse(clientTransport.aborted)
        self.reactor.advance(5)
        self.assertTrue(clientTransport.aborted)
        self.assertTrue(serverTransport.aborted)
        self.assertEqual(self.factory.relays, set())

    def test_notWhileConnecting(self) -> None:
        """
        The timeout is for relayed connections: connecting has its own.
        """
        self.use(idleTimeout=5.0)
        _client, clientTransport = self.accept()
        self.reactor.advance(60)
        self.assertTrue(clientTransport.connected)

    def test_timerGoneWhenClosed(self) -> None:
        self.use(idleTimeout=5.0)
        _client, clientTransport, _server, _serverTransport = self.relayed()
        clientTransport.loseConnection()
        self.assertEqual(self.reactor.getDelayedCalls(), [])


class ProxyHeaderTests(SettingsTestCase):
    def relayWith(self, version: int, peer: Any, host: Any) -> bytes:
        self.use(proxyProtocol=version)
        protocol = self.factory.buildProtocol(peer)
        assert protocol is not None
        transport = HalfClosingTransport(hostAddress=host, peerAddress=peer)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        protocol.dataReceived(b"early")
        serverTransport = HalfClosingTransport()
        self.endpoint.succeed(serverTransport)
        protocol.dataReceived(b" late")
        return serverTransport.value()

    def test_v1BeforeEarlyBytes(self) -> None:
        sent = self.relayWith(1, PEER, IPv4Address("TCP", "198.51.100.9", 443))
        self.assertEqual(
            sent, b"PROXY TCP4 192.0.2.7 198.51.100.9 5555 443\r\nearly late"
        )

    def test_v2(self) -> None:
        sent = self.relayWith(
            2,
            IPv6Address("TCP", "2001:db8::7", 1),
            IPv6Address("TCP", "2001:db8::1", 2),
        )
        self.assertEqual(sent[12:16], b"\x21\x21\x00\x24")
        self.assertEqual(sent[52:], b"early late")

    def test_noneByDefault(self) -> None:
        _client, _ct, _server, serverTransport = self.relayed()
        self.assertEqual(serverTransport.value(), b"")


class AccessTests(SettingsTestCase):
    def test_refusedByRule(self) -> None:
        self.use(access=AccessPolicy((parseRule(False, "192.0.2.0/24"),)))
        with capturedLogs() as events:
            self.assertIsNone(self.factory.buildProtocol(PEER))
        [event] = events
        self.assertEqual(event["log_level"], LogLevel.warn)
        self.assertEqual(
            text(event), "#1 from 192.0.2.7:5555 refused by --deny 192.0.2.0/24"
        )
        self.assertEqual(self.endpoint.attempts, [])
        self.assertEqual(
            (self.factory.stats.refused, self.factory.stats.accepted), (1, 0)
        )

    def test_allowed(self) -> None:
        self.use(access=AccessPolicy((parseRule(True, "192.0.2.7"),)))
        self.assertIsNotNone(self.factory.buildProtocol(PEER))
        with capturedLogs() as events:
            other = IPv4Address("TCP", "192.0.2.8", 1)
            self.assertIsNone(self.factory.buildProtocol(other))
        self.assertEqual(
            text(events[0]), "#2 from 192.0.2.8:1 refused by no --allow rule matches"
        )


class PerSourceTests(SettingsTestCase):
    def test_limit(self) -> None:
        """
        A source is refused while it has N open; others are not; once one
        of its relays ends it may connect again.  An IPv4-mapped peer is
        the same source as its IPv4 address.
        """
        self.use(maxPerSource=2)
        _c, first, _s, _st = self.relayed()
        self.accept()
        mapped = IPv6Address("TCP", "::ffff:192.0.2.7", 6000)
        with capturedLogs() as events:
            self.assertIsNone(self.factory.buildProtocol(mapped))
        self.assertEqual(
            text(events[0]),
            "#3 from [::ffff:192.0.2.7]:6000 refused: --max-per-source 2 reached "
            "for 192.0.2.7",
        )
        self.assertIsNotNone(
            self.factory.buildProtocol(IPv4Address("TCP", "192.0.2.8", 1))
        )
        first.loseConnection()
        self.assertIsNotNone(self.factory.buildProtocol(PEER))
        self.assertEqual(self.factory.stats.refused, 1)

    def test_countsForgotten(self) -> None:
        self.use(maxPerSource=1)
        _c, transport, _s, _st = self.relayed()
        transport.loseConnection()
        self.assertEqual(self.factory._perSource, {})


class StatsServiceTests(SynchronousTestCase):
    def test_everyInterval(self) -> None:
        reactor = MemoryReactorClock()
        service = RelayService(
            reactor,
            RecordingServerEndpoint(succeed(FakePort())),
            ControlledEndpoint(),
            settings=RelaySettings(statsInterval=10.0),
        )
        with capturedLogs() as events:
            service.startService()
            reactor.advance(9)
            reactor.advance(1)
            reactor.advance(10)
        self.assertEqual(len([e for e in events if e.get("relayStats")]), 2)
        service.stopService()
        with capturedLogs() as events:
            reactor.advance(100)
        self.assertEqual(events, [])

    def test_noneByDefault(self) -> None:
        reactor = MemoryReactorClock()
        service = RelayService(
            reactor, RecordingServerEndpoint(succeed(FakePort())), ControlledEndpoint()
        )
        service.startService()
        self.assertEqual(reactor.getDelayedCalls(), [])


class BacklogTests(SynchronousTestCase):
    def test_added(self) -> None:
        for given, expected in (
            ("tx-tcp4:0", "tx-tcp4:0:backlog=1024"),
            ("TX-TCP6:0:interface=\\:\\:1", "TX-TCP6:0:interface=\\:\\:1:backlog=1024"),
            ("tx-host:8080", "tx-host:8080:backlog=1024"),
            ("tcp:80", "tcp:80:backlog=1024"),
            ("tcp:80:interface=127.0.0.1", "tcp:80:interface=127.0.0.1:backlog=1024"),
            ("tcp6:80", "tcp6:80:backlog=1024"),
            ("unix:/tmp/s", "unix:/tmp/s:backlog=1024"),
        ):
            self.assertEqual(withRelayBacklog(given), expected)

    def test_keptWhenSet(self) -> None:
        for given in (
            "tx-tcp4:0:backlog=5",
            "tcp:80:127.0.0.1:7",
            "tcp6:80:7",
            "tx-stdio",
            "stdio:",
            "systemd:domain=INET:index=0",
            "thirdparty:whatever",
            "tcp:80\\",
        ):
            self.assertEqual(withRelayBacklog(given), given)

    def test_endpoints(self) -> None:
        reactor = MemoryReactorClock()
        ours, _ = parseEndpoints(reactor, "tx-tcp4:0:interface=127.0.0.1", "tcp:h:1")
        self.assertEqual(ours._backlog, 1024)  # type: ignore[attr-defined]
        twisted, _ = parseEndpoints(reactor, "tcp:0", "tcp:h:1")
        assert isinstance(twisted, TCP4ServerEndpoint)
        self.assertEqual(twisted._backlog, 1024)
        small, _ = parseEndpoints(reactor, "tx-tcp4:0:backlog=7", "tcp:h:1")
        self.assertEqual(small._backlog, 7)  # type: ignore[attr-defined]

    def test_errorQuotesWhatWasGiven(self) -> None:
        """
        A bad string's message quotes it as given, without the backlog.
        """
        with self.assertRaises(ValueError) as e:
            parseEndpoints(MemoryReactorClock(), "tcp:http", "tcp:h:1")
        self.assertIn("LISTEN: 'tcp:http' was rejected", str(e.exception))
        self.assertNotIn("backlog", str(e.exception))
