"""
C{--workers N}: N relay processes behind one listening address, as their
parent sees them (L{txendpoints._relay._worker} is the worker's side).

The parent (L{WorkersService}) listens through the server endpoint, stops
accepting on the sockets it got, and starts N C{txendpoints relay}
processes that adopt them; the kernel hands each
connection to whichever worker accepts first, so a busy worker takes fewer.
The parent restarts a worker that dies, passes a stop on with the same grace
(a second stop aborts), and fails if a worker cannot start.

It may import L{txendpoints._server}, the rest of L{txendpoints._relay} and
below; never L{txendpoints._tools}.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.interfaces import (
    IListeningPort,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import Factory, ProcessProtocol
from twisted.python.failure import Failure

from .._server._ports import ListeningPorts
from ._options import RelaySettings, settingsFrom
from ._relay import log
from ._stats import onStatsSignal
from ._worker import READY_FD, workerArguments


def listeningSockets(port: IListeningPort) -> list[int]:
    """
    The descriptors of a listening port's sockets.

    @param port: What a server endpoint's C{listen} gave.
    @return: One descriptor per socket.
    @raise ValueError: If the port has no sockets to share (standard I/O).
    """
    ports = port.ports if isinstance(port, ListeningPorts) else (port,)
    fds = []
    for each in ports:
        fileno = getattr(each, "fileno", None)
        if fileno is None or not hasattr(each, "stopReading"):
            raise ValueError(f"--workers needs listening sockets, not {each!r}")
        fds.append(fileno())
    return fds


def reapWhenSignalled(reactor: Any) -> None:
    """
    Learn of ended workers on C{SIGCHLD}, for a reactor run without its
    own signal handlers (C{installSignalHandlers=False}), which would
    otherwise never see them end.

    @param reactor: The reactor.
    """
    from twisted.internet.process import reapAllProcesses

    signal.signal(
        signal.SIGCHLD, lambda signum, frame: reactor.callFromThread(reapAllProcesses)
    )


class _Worker(ProcessProtocol):
    """
    One worker process, as its parent sees it.
    """

    def __init__(self, service: WorkersService, number: int) -> None:
        self.service = service
        self.number = number
        self.ready = False
        self.ended = False

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD == READY_FD and b"ready" in data and not self.ready:
            self.ready = True
            self.service._workerReady(self)

    def processEnded(self, reason: Failure) -> None:
        self.ended = True
        self.service._workerEnded(self, reason)


class _Refuse(Factory):
    noisy = False

    def buildProtocol(self, addr: Any) -> None:
        return None


class WorkersService(Service):
    """
    Listen once, and run N worker processes that relay on those sockets.

    @ivar workers: The live workers.
    """

    def __init__(
        self,
        reactor: Any,
        listenOn: IStreamServerEndpoint,
        workerArguments: Sequence[str],
        count: int,
        grace: float,
        onFailed: Callable[[Failure], object],
        listenName: str | None = None,
        executable: Sequence[str] = (sys.executable, "-m", "txendpoints", "relay"),
    ) -> None:
        """
        @param reactor: The reactor (C{IReactorProcess}, C{IReactorTime}).
        @param listenOn: Where to accept connections.
        @param workerArguments: The worker's command line after
            C{executable}, without the worker options (the connect string
            and the relay options).
        @param count: How many workers.
        @param grace: The workers' grace period, after which a worker that
            is still running after a stop is killed (with a margin).
        @param onFailed: Called if listening fails or a worker cannot start.
        @param listenName: What to call C{listenOn} in the log.
        @param executable: The command that runs a worker.
        """
        self.reactor = reactor
        self.listenOn = listenOn
        self.workerArguments = list(workerArguments)
        self.count = count
        self.grace = grace
        self.onFailed = onFailed
        self.listenName = repr(listenOn) if listenName is None else listenName
        self.executable = list(executable)
        self.workers: dict[_Worker, Any] = {}
        self._port: IListeningPort | None = None
        self._fds: list[int] = []
        self._started = 0
        self._ready = 0
        self._stopping = False
        self._ended: list[Deferred[None]] = []
        self._unhandleStats: Callable[[], None] = lambda: None

    def startService(self) -> None:
        super().startService()  # type: ignore[no-untyped-call]
        # SIGUSR1 (statistics) would end the parent: each worker logs its own.
        self._unhandleStats = onStatsSignal(
            self.reactor, lambda: self._signal(signal.SIGUSR1)
        )
        # A connection the parent accepted before it stopped accepting has
        # no relay here: close it rather than hold it.
        maybeDeferred(self.listenOn.listen, _Refuse()).addCallbacks(
            self._listened, self._fail
        )

    def _listened(self, port: IListeningPort) -> None:
        self._port = port
        try:
            self._fds = listeningSockets(port)
        except ValueError as e:
            self._fail(Failure(e))  # type: ignore[no-untyped-call]
            return
        for each in port.ports if isinstance(port, ListeningPorts) else (port,):
            each.stopReading()  # type: ignore[attr-defined]
        if self._stopping:
            return
        for _ in range(self.count):
            self._spawn()

    def _spawn(self) -> None:
        self._started += 1
        worker = _Worker(self, self._started)
        listening = {READY_FD + 1 + i: fd for i, fd in enumerate(self._fds)}
        args = [
            *self.executable,
            "--worker-fds",
            ",".join(map(str, listening)),
            "--worker-ready",
            str(READY_FD),
            *self.workerArguments,
        ]
        childFDs: dict[int, int | str] = {0: "w", 1: 1, 2: 2, READY_FD: "r"}
        childFDs.update(listening)
        transport = self.reactor.spawnProcess(
            worker, args[0], args, env=os.environ, childFDs=childFDs
        )
        transport.closeStdin()
        self.workers[worker] = transport

    def _workerReady(self, worker: _Worker) -> None:
        self._ready += 1
        if self._ready == self.count:
            log.info(
                "{count} workers relay for {listenOn}",
                count=self.count,
                listenOn=self.listenName,
                # Shown with --quiet too, as where a relay listens is.
                relayListening=True,
            )

    def _workerEnded(self, worker: _Worker, reason: Failure) -> None:
        self.workers.pop(worker, None)
        if self._stopping:
            if not self.workers:
                ended, self._ended = self._ended, []
                for d in ended:
                    d.callback(None)
            return
        status = reason.getErrorMessage()
        if not worker.ready:
            log.critical(
                "worker {number} could not start: {status}",
                number=worker.number,
                status=status,
            )
            self._fail(reason)
            return
        log.warn(
            "worker {number} ended ({status}); starting another",
            number=worker.number,
            status=status,
        )
        self._spawn()

    def _fail(self, reason: Failure) -> None:
        if not self._stopping:
            log.critical(
                "cannot relay for {listenOn}: {reason}",
                listenOn=self.listenName,
                reason=reason.getErrorMessage(),
            )
            self.onFailed(reason)

    def stopService(self) -> Deferred[None]:
        """
        Stop the workers the way a signal stops one relay: each stops
        listening and gives its connections the grace period.

        @return: Fires once every worker has exited.
        """
        super().stopService()  # type: ignore[no-untyped-call]
        self._unhandleStats()
        self._stopping = True
        stopped: Deferred[Any] = Deferred()
        port, self._port = self._port, None
        if port is not None:
            stopped = maybeDeferred(port.stopListening)
        else:
            stopped.callback(None)
        self._signal(signal.SIGTERM)
        if not self.workers:
            return stopped.addCallback(lambda _: None)
        ended: Deferred[None] = Deferred()
        self._ended.append(ended)
        # A worker that outlives its grace period by far is stuck.
        killer = self.reactor.callLater(self.grace + 10, self._signal, signal.SIGKILL)

        def done(result: object) -> None:
            if killer.active():
                killer.cancel()

        return DeferredList([stopped, ended]).addCallback(done)

    def abortAll(self) -> None:
        """
        Stop again: each worker ends its connections at once.
        """
        self._signal(signal.SIGTERM)

    def _signal(self, signum: int) -> None:
        for worker, transport in list(self.workers.items()):
            if not worker.ended:
                try:
                    transport.signalProcess(signum)
                except (OSError, ProcessLookupError):
                    pass


def settingsArguments(settings: RelaySettings) -> list[str]:
    """
    The command-line options that give L{RelaySettings} back: what a
    C{--workers} parent hands each worker, so that the workers do all that
    the command line asked.

    @param settings: The settings.
    @return: Options for C{txendpoints relay}; none for the defaults.
    """
    arguments: list[str] = []
    if settings.idleTimeout is not None:
        arguments += ["--idle-timeout", repr(settings.idleTimeout)]
    if settings.connectRetry != 0:
        retry = settings.connectRetry
        arguments += ["--connect-retry", "forever" if retry is None else str(retry)]
        arguments += ["--retry-delay", repr(settings.retryDelay)]
    if settings.proxyProtocol is not None:
        arguments += ["--proxy-protocol", f"v{settings.proxyProtocol}"]
    for rule in settings.access.rules:
        arguments += str(rule).split(" ")
    if settings.maxPerSource is not None:
        arguments += ["--max-per-source", str(settings.maxPerSource)]
    if settings.statsInterval is not None:
        arguments += ["--stats", repr(settings.statsInterval)]
    return arguments


def commandService(
    reactor: Any,
    listenOn: IStreamServerEndpoint,
    args: Any,
    onFailed: Callable[[Failure], object],
) -> WorkersService:
    """
    The workers' parent for C{txendpoints relay --workers N}.

    @param reactor: The reactor, which will run without its own signal
        handlers.
    @param listenOn: Where to accept connections.
    @param args: The parsed command line.
    @param onFailed: Called if listening fails or a worker cannot start.
    @return: The service.
    """
    reapWhenSignalled(reactor)
    arguments = workerArguments(
        args.listen,
        args.connect,
        args.grace,
        args.max_connections,
        args.quiet,
        settingsArguments(settingsFrom(vars(args))),
    )
    return WorkersService(
        reactor,
        listenOn,
        arguments,
        args.workers,
        args.grace,
        onFailed=onFailed,
        listenName=args.listen,
    )
