"""
The relay as a service: for C{txendpoints relay} and C{twist tx-relay}.

It may import the rest of L{txendpoints._relay}, the string layer and
everything below it.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, maybeDeferred, succeed
from twisted.internet.endpoints import clientFromString, serverFromString
from twisted.internet.interfaces import (
    IListeningPort,
    IReactorTime,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from twisted.logger import ILogFilterPredicate, LogEvent, LogLevel, PredicateResult
from twisted.python import usage
from twisted.python.failure import Failure
from zope.interface import implementer

from .._errors import EndpointStringError
from .._net import formatAddress
from ._factory import RelayFactory
from ._relay import log
from ._worker import parseWorkers, workerArguments
from ._workers import WorkersService


class RelayService(Service):
    """
    Listen on a server endpoint and relay each connection to a client
    endpoint; on stop, stop listening and let open relays finish.

    @ivar factory: The L{RelayFactory} for accepted connections.
    @ivar listening: Once started, fires with the L{IListeningPort}, or
        with L{None} if listening failed (after C{onListenFailed} ran).
    """

    def __init__(
        self,
        reactor: IReactorTime,
        listenOn: IStreamServerEndpoint,
        connectTo: IStreamClientEndpoint,
        maxConnections: int | None = None,
        grace: float = 5.0,
        onListenFailed: Callable[[Failure], object] | None = None,
        listenName: str | None = None,
        connectName: str | None = None,
        raiseSynchronously: bool = False,
    ) -> None:
        """
        @param reactor: The reactor, for time.
        @param listenOn: Where to accept connections.
        @param connectTo: Where to connect for each accepted connection.
        @param maxConnections: The most relays open at once, or L{None}.
        @param grace: Seconds open relays get to finish when the service
            stops, before they are aborted.
        @param onListenFailed: Called with the reason if listening fails,
            after it is logged.
        @param listenName: What to call C{listenOn} in the log (its string);
            its C{repr} by default.
        @param connectName: What to call C{connectTo} in the log; see
            L{RelayFactory}.
        @param raiseSynchronously: Whether a listen that fails before
            L{startService} returns raises from it (after it is logged)
            instead of calling C{onListenFailed}: for twist and twistd,
            which start services before the reactor runs, as Twisted's
            C{strports.service} does.
        """
        self.listenOn = listenOn
        self.grace = grace
        self.listenName = repr(listenOn) if listenName is None else listenName
        self.factory = RelayFactory(reactor, connectTo, maxConnections, connectName)
        self.onListenFailed = onListenFailed
        self.listening: Deferred[IListeningPort | None] = Deferred()
        self.raiseSynchronously = raiseSynchronously
        self._port: IListeningPort | None = None
        self._starting = False
        self._failedAtOnce: Failure | None = None

    def startService(self) -> None:
        """
        Start listening.

        @raise BaseException: With C{raiseSynchronously}, whatever the listen
            failed with, if it failed before this returns.
        """
        super().startService()  # type: ignore[no-untyped-call]
        self.factory.holdLog()
        self._starting = True
        try:
            self.listening = self.listenOn.listen(self.factory).addCallbacks(
                self._listened, self._listenFailed
            )
        finally:
            self._starting = False
        failed, self._failedAtOnce = self._failedAtOnce, None
        if failed is not None:
            failed.raiseException()

    def _listened(self, port: IListeningPort) -> IListeningPort:
        self._port = port
        log.info(
            "listening on {address}, relaying to {connectTo}",
            address=formatAddress(port.getHost()),
            connectTo=self.factory.connectName,
            relayListening=True,
        )
        self.factory.releaseLog()
        return port

    def _listenFailed(self, reason: Failure) -> None:
        self.factory.releaseLog()
        if isinstance(reason.value, CancelledError):
            return
        log.critical(
            "cannot listen on {listenOn}: {reason}",
            listenOn=self.listenName,
            reason=reason.getErrorMessage(),
        )
        if self.raiseSynchronously and self._starting:
            self._failedAtOnce = reason
        elif self.onListenFailed is not None:
            self.onListenFailed(reason)

    def stopService(self) -> Deferred[None]:
        """
        Stop listening, then let open relays finish for the grace period
        (counted from now) and abort the rest.

        @return: A L{Deferred} that fires with L{None} once no relay is
            open.  It fires even if the port fails to stop listening, which
            is logged: the relays are drained and the grace timer
            cancelled whatever the port does.
        """
        super().stopService()  # type: ignore[no-untyped-call]
        if not self.listening.called:
            self.listening.cancel()
        port, self._port = self._port, None
        # Twisted's own stdio: endpoint "listens" with a transport that has
        # no stopListening.
        stopListening = getattr(port, "stopListening", None)
        stopping: Deferred[object] = (
            succeed(None) if stopListening is None else maybeDeferred(stopListening)
        )
        # The grace period starts now, not once the port has stopped: a
        # port may wait for its connections (Twisted's, a third party's),
        # which output that nobody reads could put off for ever.
        reactor = self.factory.reactor
        deadline = reactor.callLater(self.grace, self.factory.abortAll)

        def drain(result: object) -> Deferred[None]:
            if isinstance(result, Failure):
                log.failure(
                    "cannot stop listening on {listenOn}",
                    result,
                    listenOn=self.listenName,
                )
            left = 0.0
            if deadline.active():
                left = round(max(0.0, deadline.getTime() - reactor.seconds()), 1)
                deadline.cancel()
            return self.factory.drain(left)

        return stopping.addBoth(drain)


def parseEndpoints(
    reactor: object, listen: str, connect: str
) -> tuple[IStreamServerEndpoint, IStreamClientEndpoint]:
    """
    Parse the two endpoint strings of a relay.

    @param reactor: The reactor the endpoints will use.
    @param listen: A server endpoint string.
    @param connect: A client endpoint string.
    @return: The server and the client endpoint.
    @raise ValueError: If a string is bad: our L{EndpointStringError}
        unchanged, anything a third-party parser raises as a L{ValueError}
        that quotes the string.
    """
    pairs: list[tuple[Callable[..., Any], str]] = [
        (serverFromString, listen),
        (clientFromString, connect),
    ]
    endpoints = []
    for parse, description in pairs:
        try:
            endpoints.append(parse(reactor, description))
        except EndpointStringError:
            raise
        except (ValueError, TypeError, KeyError, IndexError) as e:
            # Twisted's own parsers report missing arguments as TypeError
            # and unknown prefixes as ValueError, without the string.
            raise ValueError(f"bad endpoint string {description!r}: {e}") from e
    return endpoints[0], endpoints[1]


def parseMaxConnections(text: str) -> int:
    """
    Parse a C{--max-connections} value.

    @param text: The value as given.
    @return: The number, at least 1.
    @raise ValueError: If C{text} is not a whole number of 1 or more.
    """
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--max-connections {text!r} is not a number of 1 or more")
    return int(text)


def parseGrace(text: str) -> float:
    """
    Parse a C{--grace} value.

    @param text: The value as given, in seconds.
    @return: The number of seconds, finite and not negative.
    @raise ValueError: If C{text} is not such a number.
    """
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ValueError(f"--grace {text!r} is not a number of seconds (0 or more)")
    return value


class Options(usage.Options):
    """
    Options of C{twist tx-relay}.
    """

    synopsis = "--listen LISTEN --connect CONNECT [options]"
    longdesc = (
        "Relay bytes between two endpoint strings, with flow control: each "
        "connection accepted on LISTEN is connected to CONNECT."
    )
    optParameters = [
        ["listen", "l", None, "Server endpoint string to accept connections on."],
        ["connect", "c", None, "Client endpoint string to connect each one to."],
        [
            "max-connections",
            None,
            None,
            "Most connections open at once.",
            parseMaxConnections,
        ],
        [
            "grace",
            None,
            5.0,
            "Seconds open connections get to finish on stop.",
            parseGrace,
        ],
        # Issue 18.
        [
            "workers",
            None,
            1,
            "Relay in N worker processes (auto: one per CPU).",
            parseWorkers,
        ],
    ]

    def postOptions(self) -> None:
        from twisted.internet import reactor

        for name in ("listen", "connect"):
            if self[name] is None:
                raise usage.UsageError(f"--{name} is required")
        try:
            self["listenOn"], self["connectTo"] = parseEndpoints(
                reactor, self["listen"], self["connect"]
            )
        except ValueError as e:
            raise usage.UsageError(str(e)) from None


def _stopAndExitNonZero(reactor: Any) -> Callable[[Failure], None]:
    """
    What C{twist tx-relay} does when listening fails once the reactor runs.

    @param reactor: The running reactor.
    @return: A function of the failure that stops the reactor and makes
        the process exit with status 1.
    """

    def exitNonZero() -> None:
        # twist and twistd offer no public way to set the exit status once
        # the reactor runs: SystemExit raised in a reactor callback or in an
        # atexit function is logged and dropped, and their main() returns
        # None.  So once they are done (twistd has removed its pid file), end
        # the process ourselves, after what it printed.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(1)

    def listenFailed(reason: Failure) -> None:
        atexit.register(exitNonZero)
        if reactor.running:
            reactor.stop()
        else:
            reactor.callWhenRunning(reactor.stop)

    return listenFailed


def makeService(options: Options) -> RelayService | WorkersService:
    """
    Make the relay service for C{twist tx-relay}.

    @param options: The parsed options.
    @return: The service.  If it cannot listen, the process exits 1: a
        listen that fails at once raises from C{startService}, as Twisted's
        C{tcp:} does, and one that fails later stops the reactor.
    """
    from twisted.internet import reactor

    if options["workers"] > 1:
        # Issue 18: the workers are relay commands; twist supervises them.
        return WorkersService(
            reactor,
            options["listenOn"],
            workerArguments(
                options["listen"],
                options["connect"],
                options["grace"],
                options["max-connections"],
                quiet=False,
            ),
            options["workers"],
            options["grace"],
            onFailed=_stopAndExitNonZero(reactor),
            listenName=options["listen"],
        )
    return RelayService(
        reactor,
        options["listenOn"],
        options["connectTo"],
        options["max-connections"],
        options["grace"],
        onListenFailed=_stopAndExitNonZero(reactor),
        listenName=options["listen"],
        connectName=options["connect"],
        raiseSynchronously=True,
    )


@implementer(ILogFilterPredicate)
class RelayLogPredicate:
    """
    What the relay command logs: the relay's own events, or with C{quiet}
    only the address it listens on; warnings and errors from anywhere.

    @ivar quiet: Whether to leave out the log of each connection.
    """

    def __init__(self, quiet: bool) -> None:
        """
        @param quiet: Whether to leave out the log of each connection.
        """
        self.quiet = quiet

    def __call__(self, event: LogEvent) -> PredicateResult:
        level = event.get("log_level", LogLevel.info)
        yes: PredicateResult = PredicateResult.yes
        no: PredicateResult = PredicateResult.no
        if level >= LogLevel.warn or event.get("relayListening"):
            return yes
        if self.quiet or event.get("log_namespace") != log.namespace:
            return no
        return yes
