"""
Tests for L{txendpoints._relay._stats}: the counts, their log line, and
C{SIGUSR1}.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

from twisted.internet.error import ConnectionRefusedError
from twisted.logger import capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._stats import RelayStats, onStatsSignal

from .test_relay_relay import RelayTestCase


class StatsLineTests(RelayTestCase):
    def test_countsAndBytes(self) -> None:
        """
        The line counts finished relays' bytes and open ones' so far.
        """
        client, clientTransport, server, _ = self.relayed()
        client.dataReceived(b"12345")
        server.dataReceived(b"123")
        clientTransport.loseConnection()
        client2, _, server2, _ = self.relayed()
        client2.dataReceived(b"1")
        server2.dataReceived(b"22")
        self.accept()
        self.endpoint.fail(ConnectionRefusedError())
        self.factory.stats.refused = 4
        with capturedLogs() as events:
            self.factory.logStats()
        [event] = events
        self.assertTrue(event["relayStats"])
        self.assertEqual(
            event["log_format"].format(**event),
            "stats: 1 open, 3 accepted, 4 refused, 1 failed, 2 finished, "
            "6 bytes up, 5 bytes down",
        )

    def test_empty(self) -> None:
        with capturedLogs() as events:
            RelayStats().log([])
        self.assertEqual(
            events[0]["log_format"].format(**events[0]),
            "stats: 0 open, 0 accepted, 0 refused, 0 failed, 0 finished, "
            "0 bytes up, 0 bytes down",
        )


class FakeReactor:
    def __init__(self) -> None:
        self.calls: list[Callable[[], object]] = []

    def callFromThread(self, f: Callable[[], object]) -> None:
        self.calls.append(f)


class SignalTests(SynchronousTestCase):
    def setUp(self) -> None:
        if not hasattr(signal, "SIGUSR1"):
            raise self.skipTest("no SIGUSR1 here")
        if threading.current_thread() is not threading.main_thread():
            raise self.skipTest("signal handlers are for the main thread")
        self.previous = signal.getsignal(signal.SIGUSR1)
        self.addCleanup(signal.signal, signal.SIGUSR1, self.previous)

    def test_reportInReactorThread(self) -> None:
        reactor = FakeReactor()

        def report() -> None:
            pass

        restore = onStatsSignal(reactor, report)
        os.kill(os.getpid(), signal.SIGUSR1)
        # The handler runs before the next bytecode or two.
        for _ in range(1000):
            if reactor.calls:
                break
        self.assertEqual(reactor.calls, [report])
        restore()
        self.assertEqual(signal.getsignal(signal.SIGUSR1), self.previous)

    def test_restoreLeavesOthers(self) -> None:
        """
        If someone else took the signal since, their handler stays.
        """
        restore = onStatsSignal(FakeReactor(), lambda: None)

        def theirs(signum: int, frame: object) -> None:
            pass

        signal.signal(signal.SIGUSR1, theirs)
        restore()
        self.assertIs(signal.getsignal(signal.SIGUSR1), theirs)

    def test_notMainThread(self) -> None:
        result: list[object] = []

        def run() -> None:
            restore = onStatsSignal(FakeReactor(), lambda: None)
            restore()
            result.append(signal.getsignal(signal.SIGUSR1))

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        self.assertEqual(result, [self.previous])
