"""
Tests for L{txendpoints._relay._worker}: a C{--workers} worker's side.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._worker import (
    READY_FD,
    AdoptedPortsEndpoint,
    addWorkerOptions,
    announceReady,
    becomeWorker,
    parseWorkers,
    workerArguments,
)
from txendpoints._server._ports import ListeningPorts


class ParseWorkersTests(SynchronousTestCase):
    def test_number(self) -> None:
        self.assertEqual(parseWorkers("3"), 3)

    def test_auto(self) -> None:
        """
        C{auto} is one per CPU this process may run on.
        """
        expected = len(os.sched_getaffinity(0))
        self.assertEqual(parseWorkers("auto"), expected)

    def test_autoWithoutAffinity(self) -> None:
        self.patch(os, "sched_getaffinity", None)
        self.patch(os, "cpu_count", lambda: 7)
        self.assertEqual(parseWorkers("auto"), 7)

    def test_bad(self) -> None:
        for text in ("0", "-1", "two", "", "1.5"):
            with self.assertRaises(ValueError) as caught:
                parseWorkers(text)
            self.assertEqual(
                str(caught.exception),
                f"--workers {text!r} is not a number of 1 or more, or auto",
            )

    def test_option(self) -> None:
        """
        The command's option defaults to 1 and reports a bad value as a
        usage error with our message; the worker options are hidden.
        """
        parser = argparse.ArgumentParser()
        addWorkerOptions(parser)
        self.assertEqual(parser.parse_args([]).workers, 1)
        self.assertEqual(parser.parse_args(["--workers", "4"]).workers, 4)
        self.assertNotIn("--worker-fds", parser.format_help())
        errors: list[str] = []
        self.patch(parser, "error", lambda message: errors.append(message))
        parser.parse_args(["--workers", "none"])
        self.assertIn("is not a number of 1 or more, or auto", errors[0])


class WorkerArgumentsTests(SynchronousTestCase):
    def test_all(self) -> None:
        self.assertEqual(
            workerArguments("tx-tcp4:80", "tcp:h:81", 2.5, 10, True),
            [
                "--grace",
                "2.5",
                "--max-connections",
                "10",
                "--quiet",
                "--",
                "tx-tcp4:80",
                "tcp:h:81",
            ],
        )

    def test_defaults(self) -> None:
        self.assertEqual(
            workerArguments("-odd", "tcp:h:81", 5.0, None, False),
            ["--grace", "5.0", "--", "-odd", "tcp:h:81"],
        )


class AdoptedPortsEndpointTests(SynchronousTestCase):
    def listeningSocket(self, family: int = socket.AF_INET) -> int:
        sock = socket.socket(family)
        sock.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
        sock.listen()
        return sock.detach()

    def test_one(self) -> None:
        """
        One inherited socket is adopted with its family, then closed.
        """
        reactor = MemoryReactorClock()
        fd = self.listeningSocket()
        factory = object()
        port = self.successResultOf(
            AdoptedPortsEndpoint(reactor, str(fd)).listen(factory)  # type: ignore[arg-type]
        )
        self.assertEqual(reactor.adoptedPorts, [(fd, socket.AF_INET, factory)])
        self.assertEqual(port.getHost(), IPv4Address("TCP", "0.0.0.0", 1234))
        self.assertRaises(OSError, os.fstat, fd)

    def test_several(self) -> None:
        """
        Several are one L{ListeningPorts}.
        """
        reactor = MemoryReactorClock()
        fds = [self.listeningSocket(), self.listeningSocket(socket.AF_INET6)]
        port = self.successResultOf(
            AdoptedPortsEndpoint(reactor, fds).listen(object())  # type: ignore[arg-type]
        )
        self.assertIsInstance(port, ListeningPorts)
        families = [family for _, family, _ in reactor.adoptedPorts]
        self.assertEqual(families, [socket.AF_INET, socket.AF_INET6])

    def test_bad(self) -> None:
        """
        A descriptor that is no socket fails the listen.
        """
        readEnd, writeEnd = os.pipe()
        self.addCleanup(os.close, writeEnd)
        d = AdoptedPortsEndpoint(MemoryReactorClock(), [readEnd]).listen(object())  # type: ignore[arg-type]
        self.failureResultOf(d, OSError)
        os.close(readEnd)


class AnnounceReadyTests(SynchronousTestCase):
    def test_readyThenGone(self) -> None:
        """
        The worker says ready on the pipe; once the parent's end closes,
        the pipe turns readable and the worker is told, once, and stops
        watching.
        """
        reactor = MemoryReactorClock()
        readEnd, writeEnd = os.pipe()
        self.addCleanup(os.close, writeEnd)
        gone: list[bool] = []
        announceReady(reactor, writeEnd, lambda: gone.append(True))
        self.assertEqual(os.read(readEnd, 100), b"ready\n")
        [lifeline] = reactor.getReaders()
        self.assertEqual(lifeline.fileno(), writeEnd)
        os.close(readEnd)
        import select

        self.assertEqual(select.select([writeEnd], [], [], 0)[0], [writeEnd])
        lifeline.doRead()
        self.assertEqual(gone, [True])
        self.assertEqual(reactor.getReaders(), [])
        lifeline.connectionLost(None)
        self.assertEqual(gone, [True])

    def test_parentGoneAlready(self) -> None:
        readEnd, writeEnd = os.pipe()
        self.addCleanup(os.close, writeEnd)
        os.close(readEnd)
        gone: list[bool] = []
        previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self.addCleanup(signal.signal, signal.SIGPIPE, previous)
        announceReady(MemoryReactorClock(), writeEnd, lambda: gone.append(True))
        self.assertEqual(gone, [True])


class BecomeWorkerTests(SynchronousTestCase):
    def test_becomeWorker(self) -> None:
        """
        A worker ignores SIGINT, and says ready once its service listens.
        """
        previous = signal.getsignal(signal.SIGINT)
        self.addCleanup(signal.signal, signal.SIGINT, previous)
        reactor = MemoryReactorClock()
        readEnd, writeEnd = os.pipe()
        self.addCleanup(os.close, readEnd)
        self.addCleanup(os.close, writeEnd)

        class Service:
            listening: Deferred[Any] = Deferred()

        becomeWorker(reactor, Service, writeEnd, lambda: None)
        self.assertEqual(signal.getsignal(signal.SIGINT), signal.SIG_IGN)
        self.assertEqual(READY_FD, 3)
        reactor.run()
        os.set_blocking(readEnd, False)
        self.assertRaises(BlockingIOError, os.read, readEnd, 100)
        Service.listening.callback(object())
        self.assertEqual(os.read(readEnd, 100), b"ready\n")
