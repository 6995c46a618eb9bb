"""
Tests for L{txendpoints._relay._idle}: the idle watch, on a fake clock.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._idle import IdleWatch


class IdleWatchTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.count = 0
        self.events: list[tuple[str, float]] = []
        self.watch = IdleWatch(
            self.clock,
            10.0,
            lambda: self.count,
            lambda: self.events.append(("idle", self.clock.seconds())),
            lambda: self.events.append(("stuck", self.clock.seconds())),
        )

    def test_idleFromStart(self) -> None:
        self.clock.advance(9.9)
        self.assertEqual(self.events, [])
        self.clock.advance(0.1)
        self.assertEqual(self.events, [("idle", 10.0)])

    def test_movedPutsItOff(self) -> None:
        """
        The timeout counts from the last byte, exactly.
        """
        self.clock.advance(7)
        self.count += 1
        self.watch.moved()
        self.clock.advance(3)
        self.assertEqual(self.events, [])
        self.clock.advance(6.9)
        self.assertEqual(self.events, [])
        self.clock.advance(0.1)
        self.assertEqual(self.events, [("idle", 17.0)])

    def test_bytesSeenWithoutMoved(self) -> None:
        """
        Bytes counted that L{IdleWatch.moved} was not told of (a pump that
        bypasses the protocols) count as moving when the timer looks.
        """
        self.clock.advance(5)
        self.count += 100
        self.clock.advance(5)
        self.assertEqual(self.events, [])
        self.clock.advance(10)
        self.assertEqual(self.events, [("idle", 20.0)])

    def test_stuckAfterAnotherPeriod(self) -> None:
        self.clock.advance(10)
        self.clock.advance(10)
        self.assertEqual(self.events, [("idle", 10.0), ("stuck", 20.0)])

    def test_stop(self) -> None:
        self.clock.advance(10)
        self.watch.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.watch.stop()
        self.clock.advance(100)
        self.assertEqual(self.events, [("idle", 10.0)])
