"""
A C{--workers} worker's side: listen on the sockets the parent opened, say
so on an inherited pipe, and stop once that pipe breaks (the parent is
gone).  L{txendpoints._relay._workers} is the parent's side.

It may import L{txendpoints._server} and below; nothing else of the relay.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReadDescriptor,
    IStreamServerEndpoint,
)
from twisted.python.failure import Failure
from zope.interface import implementer

from .._server._ports import ListeningPorts

#: The worker's descriptor for the pipe it says "ready" on; its listening
#: sockets follow.
READY_FD = 3


def parseWorkers(text: str) -> int:
    """
    Parse a C{--workers} value.

    @param text: A whole number of 1 or more, or C{auto} (one per CPU this
        process may run on).
    @return: The number of workers.
    @raise ValueError: If C{text} is neither.
    """
    if text == "auto":
        getAffinity = getattr(os, "sched_getaffinity", None)
        return len(getAffinity(0)) if getAffinity else os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--workers {text!r} is not a number of 1 or more, or auto")
    return int(text)


def workerArguments(
    listen: str,
    connect: str,
    grace: float,
    maxConnections: int | None,
    quiet: bool,
    more: Sequence[str] = (),
) -> list[str]:
    """
    A worker's command line after the worker options.

    @param listen: The listen string, for the worker's log.
    @param connect: The connect string.
    @param grace: C{--grace}.
    @param maxConnections: C{--max-connections} (for each worker), or L{None}.
    @param quiet: C{--quiet}.
    @param more: The other relay options, as
        L{settingsArguments<txendpoints._relay._workers.settingsArguments>}
        gives them.
    @return: The arguments.
    """
    options = ["--grace", repr(grace), *more]
    if maxConnections is not None:
        options += ["--max-connections", str(maxConnections)]
    if quiet:
        options.append("--quiet")
    return [*options, "--", listen, connect]


def addWorkerOptions(parser: argparse.ArgumentParser) -> None:
    """
    Add C{--workers}, and the options a parent gives its workers, to the
    relay command's parser.

    @param parser: The parser of C{txendpoints relay}.
    """

    def workers(text: str) -> int:
        try:
            return parseWorkers(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parser.add_argument(
        "--workers",
        metavar="N",
        type=workers,
        default=1,
        help=(
            "relay in N worker processes that share the listening sockets "
            "(auto: one per CPU; default: 1, no workers)"
        ),
    )
    parser.add_argument("--worker-fds", help=argparse.SUPPRESS)
    parser.add_argument("--worker-ready", type=int, help=argparse.SUPPRESS)


@implementer(IStreamServerEndpoint)
class AdoptedPortsEndpoint:
    """
    Listen on inherited listening sockets, as one port.
    """

    def __init__(self, reactor: Any, fds: Sequence[int] | str) -> None:
        """
        @param reactor: A reactor that can adopt sockets
            (L{IReactorSocket <twisted.internet.interfaces.IReactorSocket>}).
        @param fds: The inherited descriptors, closed once adopted, or
            their numbers separated by commas (C{--worker-fds}).
        """
        self.reactor = reactor
        if isinstance(fds, str):
            fds = [int(fd) for fd in fds.split(",")]
        self.fds = tuple(fds)

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        def adopt() -> IListeningPort:
            ports = []
            for fd in self.fds:
                ports.append(self.reactor.adoptStreamPort(fd, _family(fd), factory))
                # The reactor has its own duplicate now.
                os.close(fd)
            return ports[0] if len(ports) == 1 else ListeningPorts(ports)

        return maybeDeferred(adopt)


def _family(fd: int) -> int:
    sock = socket.socket(fileno=fd)
    try:
        return int(sock.family)
    finally:
        sock.detach()


@implementer(IReadDescriptor)
class _Lifeline:
    """
    The write end of the parent's pipe, watched for breaking: a closed read
    end makes it readable (an error), which means the parent is gone.
    """

    def __init__(self, reactor: Any, fd: int, gone: Callable[[], object]) -> None:
        self.reactor = reactor
        self.fd = fd
        self.gone = gone

    def fileno(self) -> int:
        return self.fd

    def doRead(self) -> None:
        self.reactor.removeReader(self)
        gone = ConnectionError("the parent is gone")
        self.connectionLost(Failure(gone))  # type: ignore[no-untyped-call]

    def connectionLost(self, reason: Failure) -> None:
        gone, self.gone = self.gone, lambda: None
        gone()

    def logPrefix(self) -> str:
        return "WorkerLifeline"


def announceReady(reactor: Any, fd: int, parentGone: Callable[[], object]) -> None:
    """
    Tell the parent this worker listens, then watch for it going away.

    @param reactor: The reactor
        (L{IReactorFDSet <twisted.internet.interfaces.IReactorFDSet>}).
    @param fd: The inherited pipe (L{READY_FD}).
    @param parentGone: Called once if the parent is gone.
    """
    try:
        os.write(fd, b"ready\n")
    except OSError:
        parentGone()
        return
    reactor.addReader(_Lifeline(reactor, fd, parentGone))


def becomeWorker(
    reactor: Any, service: Any, fd: int, stop: Callable[[], object]
) -> None:
    """
    Make the relay command a worker: deaf to SIGINT, which a terminal sends
    to the whole process group while the parent passes a stop on as
    SIGTERM (so that each stop counts once); and once listening, ready.

    @param reactor: The reactor, not running yet.
    @param service: The relay service, not started yet.
    @param fd: The inherited pipe (L{READY_FD}).
    @param stop: Stops the worker, as a signal does.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def ready(port: object) -> None:
        if port is not None:
            announceReady(reactor, fd, stop)

    reactor.callWhenRunning(lambda: service.listening.addCallback(ready))
