"""
Tests for L{txendpoints._relay._workers}: the parent of C{--workers}
worker processes, with a reactor that records the processes it spawns.
"""

from __future__ import annotations

import argparse
import signal
import socket
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import CannotListenError, ProcessDone, ProcessTerminated
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import capturedLogs, formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints._relay._options import addArguments, settingsFrom
from txendpoints._relay._worker import READY_FD
from txendpoints._relay._workers import (
    WorkersService,
    listeningSockets,
    settingsArguments,
)
from txendpoints._server._ports import ListeningPorts


class FakeProcess:
    """
    The part of a process transport the parent uses.
    """

    def __init__(self, protocol: Any, args: list[str], childFDs: dict[int, Any]):
        self.protocol = protocol
        self.args = args
        self.childFDs = childFDs
        self.signals: list[int | str] = []
        self.stdinClosed = False

    def closeStdin(self) -> None:
        self.stdinClosed = True

    def signalProcess(self, signum: int | str) -> None:
        self.signals.append(signum)

    def ready(self) -> None:
        self.protocol.childDataReceived(READY_FD, b"ready\n")

    def end(self, status: int | None = 0, signum: int | None = None) -> None:
        reason = ProcessDone(0) if status == 0 else ProcessTerminated(status, signum)
        self.protocol.processEnded(Failure(reason))


class ProcessReactor(MemoryReactorClock):
    def __init__(self) -> None:
        super().__init__()
        self.processes: list[FakeProcess] = []

    def spawnProcess(
        self, protocol: Any, executable: str, args: list[str], **kw: Any
    ) -> FakeProcess:
        process = FakeProcess(protocol, args, kw["childFDs"])
        self.processes.append(process)
        return process


class FakePort:
    """
    A listening port with a socket, as Twisted's TCP port has.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.reading = True
        self.stopped = False

    def fileno(self) -> int:
        return self.fd

    def stopReading(self) -> None:
        self.reading = False

    def stopListening(self) -> Deferred[None]:
        self.stopped = True
        return succeed(None)

    def getHost(self) -> Any:
        return None


@implementer(IStreamServerEndpoint)
class Endpoint:
    def __init__(self, result: Any) -> None:
        self.result = result
        self.factories: list[Any] = []

    def listen(self, factory: Any) -> Deferred[Any]:
        self.factories.append(factory)
        if isinstance(self.result, BaseException):
            return fail(self.result)
        return succeed(self.result)


class WorkersServiceTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = ProcessReactor()
        self.port = FakePort(17)
        self.failures: list[Failure] = []

    def service(self, result: Any = None, count: int = 2) -> WorkersService:
        endpoint = Endpoint(self.port if result is None else result)
        self.endpoint = endpoint
        return WorkersService(
            self.reactor,
            endpoint,
            ["--", "tx-tcp4:80", "tcp:h:81"],
            count,
            grace=5.0,
            onFailed=self.failures.append,
            listenName="tx-tcp4:80",
            executable=("python", "-m", "txendpoints", "relay"),
        )

    def test_spawns(self) -> None:
        """
        The parent listens, stops accepting itself, and starts each worker
        with the sockets and the ready pipe; a connection the parent
        accepts anyway is closed.
        """
        service = self.service()
        service.startService()
        self.assertFalse(self.port.reading)
        self.assertIsNone(self.endpoint.factories[0].buildProtocol(None))
        self.assertEqual(len(self.reactor.processes), 2)
        process = self.reactor.processes[0]
        self.assertEqual(
            process.args,
            [
                *("python", "-m", "txendpoints", "relay"),
                *("--worker-fds", "4", "--worker-ready", "3"),
                *("--", "tx-tcp4:80", "tcp:h:81"),
            ],
        )
        self.assertEqual(process.childFDs, {0: "w", 1: 1, 2: 2, 3: "r", 4: 17})
        self.assertTrue(process.stdinClosed)

    def test_severalSockets(self) -> None:
        self.port = ListeningPorts([FakePort(17), FakePort(18)])  # type: ignore[list-item,assignment]
        service = self.service()
        service.startService()
        process = self.reactor.processes[0]
        self.assertIn("4,5", process.args)
        self.assertEqual((process.childFDs[4], process.childFDs[5]), (17, 18))

    def test_allReady(self) -> None:
        """
        Once every worker is ready, the parent says so.
        """
        service = self.service()
        with capturedLogs() as events:
            service.startService()
            for process in reversed(self.reactor.processes):
                process.ready()
        messages = [formatEvent(e) for e in events]
        self.assertEqual(messages, ["2 workers relay for tx-tcp4:80"])

    def test_restart(self) -> None:
        """
        A worker that dies after it was ready is replaced.
        """
        service = self.service()
        service.startService()
        first = self.reactor.processes[0]
        first.ready()
        with capturedLogs() as events:
            first.end(None, signal.SIGKILL)
        self.assertEqual(len(self.reactor.processes), 3)
        self.assertEqual(len(service.workers), 2)
        self.assertIn("worker 1 ended", formatEvent(events[0]))
        self.assertIn("starting another", formatEvent(events[0]))
        self.assertEqual(self.failures, [])

    def test_cannotStart(self) -> None:
        """
        A worker that dies before it was ready fails the service.
        """
        service = self.service()
        service.startService()
        with capturedLogs() as events:
            self.reactor.processes[1].end(2)
        self.assertEqual(len(self.failures), 1)
        self.assertEqual(len(self.reactor.processes), 2)
        self.assertIn("worker 2 could not start", formatEvent(events[0]))

    def test_listenFails(self) -> None:
        service = self.service(CannotListenError("127.0.0.1", 80, OSError("busy")))
        with capturedLogs() as events:
            service.startService()
        [failure] = self.failures
        self.assertIsInstance(failure.value, CannotListenError)
        self.assertIn("cannot relay for tx-tcp4:80", formatEvent(events[0]))
        self.assertEqual(self.reactor.processes, [])

    def test_noSockets(self) -> None:
        """
        A port without sockets (standard I/O) cannot have workers.
        """
        service = self.service(result=object())
        service.startService()
        [failure] = self.failures
        self.assertIsInstance(failure.value, ValueError)
        self.assertEqual(self.reactor.processes, [])

    def test_stop(self) -> None:
        """
        Stopping closes the parent's sockets and passes SIGTERM on; it is
        done once every worker has exited, and none is restarted.
        """
        service = self.service()
        service.startService()
        for process in self.reactor.processes:
            process.ready()
        stopped = service.stopService()
        self.assertTrue(self.port.stopped)
        self.assertEqual([p.signals for p in self.reactor.processes], [[15], [15]])
        self.assertNoResult(stopped)
        self.reactor.processes[0].end(None, signal.SIGTERM)
        self.assertNoResult(stopped)
        self.reactor.processes[1].end(None, signal.SIGTERM)
        self.successResultOf(stopped)
        self.assertEqual(len(self.reactor.processes), 2)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_abort(self) -> None:
        """
        A second stop passes SIGTERM on again: each worker aborts.
        """
        service = self.service()
        service.startService()
        service.stopService()
        service.abortAll()
        self.assertEqual([p.signals for p in self.reactor.processes], [[15, 15]] * 2)

    def test_stuckWorkerKilled(self) -> None:
        """
        A worker still running well past the grace period is killed.
        """
        service = self.service()
        service.startService()
        stopped = service.stopService()
        self.reactor.advance(5.0 + 10)
        self.assertEqual(self.reactor.processes[0].signals, [15, signal.SIGKILL])
        for process in self.reactor.processes:
            process.end(None, signal.SIGKILL)
        self.successResultOf(stopped)

    def test_stopWithoutWorkers(self) -> None:
        service = self.service(CannotListenError("127.0.0.1", 80, OSError("busy")))
        service.startService()
        self.successResultOf(service.stopService())


class ListeningSocketsTests(SynchronousTestCase):
    def test_realPort(self) -> None:
        """
        Twisted's TCP port gives its socket.
        """
        from twisted.internet import reactor
        from twisted.internet.protocol import Factory

        anyReactor: Any = reactor
        port = anyReactor.listenTCP(0, Factory(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        [fd] = listeningSockets(port)
        sock = socket.socket(fileno=fd)
        try:
            self.assertEqual(sock.getsockname(), ("127.0.0.1", port.getHost().port))
        finally:
            sock.detach()


class SettingsArgumentsTests(SynchronousTestCase):
    """
    L{settingsArguments} gives the command-line options that parse back to
    the same settings, so that each worker does all the parent was asked.
    """

    def roundTrip(self, *argv: str) -> None:
        parser = argparse.ArgumentParser()
        addArguments(parser)
        settings = settingsFrom(vars(parser.parse_args(list(argv))))
        again = settingsFrom(vars(parser.parse_args(settingsArguments(settings))))
        self.assertEqual(again, settings)

    def test_defaults(self) -> None:
        self.assertEqual(settingsArguments(settingsFrom({})), [])

    def test_every(self) -> None:
        self.roundTrip(
            "--idle-timeout",
            "0.5",
            "--connect-retry",
            "3",
            "--retry-delay",
            "0.25",
            "--proxy-protocol",
            "v2",
            "--deny",
            "10.0.0.0/8",
            "--allow",
            "::1",
            "--allow",
            "192.0.2.0/24",
            "--max-per-source",
            "4",
            "--stats",
            "60",
        )

    def test_forever(self) -> None:
        self.roundTrip("--connect-retry", "forever")
