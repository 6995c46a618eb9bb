"""
Tests for L{txendpoints._relay._factory}: the factory behind a relay's
port, in memory.  Its limit and drain are exercised with whole relays in
L{tests.test_relay_relay}.
"""

from __future__ import annotations

from twisted.logger import capturedLogs

from txendpoints._relay._relay import Relay

from .test_relay_relay import RelayTestCase


class HeldLogTests(RelayTestCase):
    def test_heldUntilReleased(self) -> None:
        """
        While the log is held, what relays log waits, in order, until
        L{RelayFactory.releaseLog}; after that it is logged at once.
        """
        self.factory.holdLog()
        with capturedLogs() as events:
            self.accept()
            self.accept()
        self.assertEqual(events, [])
        with capturedLogs() as events:
            self.factory.releaseLog()
        self.assertEqual([e["relay"] for e in events], [1, 2])
        with capturedLogs() as events:
            self.accept()
        self.assertEqual([e["relay"] for e in events], [3])

    def test_releaseWithoutHold(self) -> None:
        with capturedLogs() as events:
            self.factory.releaseLog()
        self.assertEqual(events, [])


class IdleTests(RelayTestCase):
    def test_whenIdle(self) -> None:
        """
        L{RelayFactory.whenIdle} fires at once with no relay open, else when
        the last one finishes, and tells C{onFinished} of each.
        """
        self.successResultOf(self.factory.whenIdle())
        finished: list[Relay] = []
        self.factory.onFinished = finished.append
        _client, clientTransport, _server, _serverTransport = self.relayed()
        d = self.factory.whenIdle()
        self.assertNoResult(d)
        clientTransport.loseConnection()
        self.successResultOf(d)
        self.assertEqual([r.number for r in finished], [1])
        self.assertEqual(self.factory.relays, set())
