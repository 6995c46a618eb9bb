"""
Tests for L{txendpoints._relay._retry}: connecting again after a
connection error, on a fake clock.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.error import (
    ConnectingCancelledError,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
)
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._retry import connectWithRetry, isConnectionError, retryDelays


class DelayTests(SynchronousTestCase):
    def test_doublesUpToCap(self) -> None:
        delay = retryDelays(1.0, 30.0)
        self.assertEqual([delay(n) for n in range(1, 8)], [1, 2, 4, 8, 16, 30, 30])

    def test_longFirstDelay(self) -> None:
        delay = retryDelays(45.0, 30.0)
        self.assertEqual([delay(1), delay(2)], [45.0, 45.0])

    def test_manyRetries(self) -> None:
        self.assertEqual(retryDelays(0.1, 30.0)(100000), 30.0)

    def test_connectionErrors(self) -> None:
        for error in (
            ConnectionRefusedError(),
            TCPTimedOutError(),
            DNSLookupError("nope"),
            OSError(113, "No route to host"),
        ):
            self.assertTrue(isConnectionError(Failure(error)), error)
        self.assertFalse(isConnectionError(Failure(ZeroDivisionError())))


class Attempts:
    """
    A connect function whose attempts the test completes.
    """

    def __init__(self) -> None:
        self.pending: list[Deferred[str]] = []
        self.cancelled = 0

    def __call__(self) -> Deferred[str]:
        def cancel(d: Deferred[str]) -> None:
            self.cancelled += 1
            d.errback(ConnectingCancelledError(None))

        d: Deferred[str] = Deferred(cancel)
        self.pending.append(d)
        return d


class RetryTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.attempts = Attempts()
        self.retries: list[tuple[str, int, float]] = []

    def connect(self, retries: int | None, first: float = 1.0) -> Deferred[str]:
        return connectWithRetry(
            self.clock,
            self.attempts,
            retries,
            retryDelays(first, 30.0),
            lambda f, n, wait: self.retries.append((type(f.value).__name__, n, wait)),
        )

    def test_firstSucceeds(self) -> None:
        d = self.connect(3)
        self.attempts.pending[0].callback("up")
        self.assertEqual(self.successResultOf(d), "up")
        self.assertEqual(self.retries, [])

    def test_retriesWithBackoff(self) -> None:
        """
        Each connection error waits twice as long as the one before, then
        the next attempt is made; the one that succeeds is the result.
        """
        d = self.connect(3)
        self.attempts.pending[0].errback(ConnectionRefusedError())
        self.assertEqual(len(self.attempts.pending), 1)
        self.clock.advance(0.999)
        self.assertEqual(len(self.attempts.pending), 1)
        self.clock.advance(0.001)
        self.assertEqual(len(self.attempts.pending), 2)
        self.attempts.pending[1].errback(TCPTimedOutError())
        self.clock.advance(2)
        self.attempts.pending[2].callback("up")
        self.assertEqual(self.successResultOf(d), "up")
        self.assertEqual(
            self.retries,
            [("ConnectionRefusedError", 1, 1.0), ("TCPTimedOutError", 2, 2.0)],
        )

    def test_givesUp(self) -> None:
        d = self.connect(2)
        for n in range(3):
            self.attempts.pending[n].errback(ConnectionRefusedError(str(n)))
            self.clock.advance(10)
        self.assertEqual(len(self.attempts.pending), 3)
        failure = self.failureResultOf(d, ConnectionRefusedError)
        self.assertEqual(failure.value.osError, "2")
        self.assertEqual(len(self.clock.getDelayedCalls()), 0)

    def test_noRetries(self) -> None:
        d = self.connect(0)
        self.attempts.pending[0].errback(ConnectionRefusedError())
        self.failureResultOf(d, ConnectionRefusedError)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_forever(self) -> None:
        d = self.connect(None)
        for n in range(200):
            self.attempts.pending[n].errback(ConnectionRefusedError())
            self.clock.advance(30)
        self.assertEqual(len(self.attempts.pending), 201)
        self.assertEqual(self.retries[-1], ("ConnectionRefusedError", 200, 30.0))
        self.assertNoResult(d)
        self.attempts.pending[-1].callback("at last")
        self.assertEqual(self.successResultOf(d), "at last")

    def test_otherErrorNotRetried(self) -> None:
        d = self.connect(5)
        self.attempts.pending[0].errback(ZeroDivisionError())
        self.failureResultOf(d, ZeroDivisionError)
        self.assertEqual(self.retries, [])

    def test_cancelWhileWaiting(self) -> None:
        """
        Cancelling during a wait stops the timer: no further attempt.
        """
        d = self.connect(None)
        self.attempts.pending[0].errback(ConnectionRefusedError())
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(100)
        self.assertEqual(len(self.attempts.pending), 1)

    def test_cancelWhileConnecting(self) -> None:
        """
        Cancelling during an attempt cancels it, is not retried, and fails
        with the attempt's own failure.
        """
        d = self.connect(None)
        d.cancel()
        self.assertEqual(self.attempts.cancelled, 1)
        self.failureResultOf(d, ConnectingCancelledError)
        self.assertEqual(self.retries, [])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_synchronousFailures(self) -> None:
        """
        An attempt that raises or fails at once waits like any other; the
        retries do not recurse.
        """
        calls: list[int] = []

        def connect() -> Deferred[Any]:
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionRefusedError()
            if len(calls) < 4:
                return fail(ConnectionRefusedError())
            return succeed("up")

        d = connectWithRetry(
            self.clock, connect, 5, retryDelays(1, 30), lambda *a: None
        )
        self.assertEqual(len(calls), 1)
        self.clock.pump([1, 2, 4])
        self.assertEqual(self.successResultOf(d), "up")
