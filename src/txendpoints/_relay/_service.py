"""
The relay as a service: for C{txendpoints relay} and C{twist tx-relay}.

The options themselves, and their parsers, are in
L{txendpoints._relay._options}, shared with the C{txendpoints relay}
command.

It may import the rest of L{txendpoints._relay}, the string layer and
everything below it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, maybeDeferred, succeed
from twisted.internet.interfaces import (
    IListeningPort,
    IReactorTime,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from twisted.internet.task import LoopingCall
from twisted.logger import ILogFilterPredicate, LogEvent, LogLevel, PredicateResult
from twisted.python.failure import Failure
from zope.interface import implementer

from .._net import formatAddress
from .._strings._clients import addressClientString
from .._strings._hints import parseFor
from .._strings._lookup import tokenize
from .._strings._parsers import noDelayByDefault
from .._strings._specs import SPECS
from ._factory import RelayFactory
from ._options import RELAY_BACKLOG, RelaySettings, parseGrace, parseMaxConnections
from ._relay import log
from ._stats import onStatsSignal

__all__ = ["parseGrace", "parseMaxConnections"]


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
        settings: RelaySettings | None = None,
        statsSignal: bool = False,
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
        @param settings: What relays do beyond moving bytes; see
            L{RelayFactory}.  Its C{statsInterval} is the service's: a
            statistics line that often while it runs.
        @param statsSignal: Whether to log a statistics line on each
            C{SIGUSR1} while the service runs.
        """
        self.listenOn = listenOn
        self.grace = grace
        self.listenName = repr(listenOn) if listenName is None else listenName
        self.factory = RelayFactory(
            reactor, connectTo, maxConnections, connectName, settings
        )
        self.statsSignal = statsSignal
        self._stats: LoopingCall | None = None
        self._unsignal: Callable[[], None] | None = None
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
        interval = self.factory.settings.statsInterval
        if interval is not None:
            self._stats = LoopingCall(self.factory.logStats)
            self._stats.clock = self.factory.reactor
            self._stats.start(interval, now=False)
        if self.statsSignal:
            self._unsignal = onStatsSignal(self.factory.reactor, self.factory.logStats)
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
        # Every address, each with the string a client connects with: a
        # port 0 or a name of several addresses is no use otherwise.
        getHosts = getattr(port, "getHosts", None)
        for address in getHosts() if getHosts else [port.getHost()]:
            try:
                client: str | None = addressClientString(address)
            except ValueError:
                client = None
            log.info(
                "listening on {address}, relaying to {connectTo}"
                if client is None
                else "listening on {address} (connect with {client}), "
                "relaying to {connectTo}",
                address=formatAddress(address),
                client=client,
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
        if self._stats is not None and self._stats.running:
            self._stats.stop()
        if self._unsignal is not None:
            self._unsignal()
            self._unsignal = None
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
    @param listen: A server endpoint string; see L{withRelayBacklog}.
    @param connect: A client endpoint string.
    @return: The server and the client endpoint.
    @raise ValueError: If a string is bad, with a message that starts
        with C{LISTEN:} or C{CONNECT:}: our
        L{EndpointStringError<txendpoints.EndpointStringError>}, anything
        a third-party parser raises as a L{ValueError} that quotes the
        string; either with a hint if the string is one for the other
        direction.
    """
    # Our parsing, for the did-you-mean of a misspelt prefix and the hint
    # for a string written for the other direction; the label says which
    # string was bad.
    endpoints = (
        parseFor(reactor, listen, "server", label="LISTEN"),
        parseFor(reactor, connect, "client", label="CONNECT"),
    )
    withBacklog = withRelayBacklog(listen)
    if withBacklog != listen:
        # Parsed as given first, so that a bad string's message quotes
        # what the user wrote, not our addition.
        endpoints = (
            parseFor(reactor, withBacklog, "server", label="LISTEN"),
            endpoints[1],
        )
    # A relay must not add Nagle delay to what it forwards (issue 14).
    return (
        noDelayByDefault(endpoints[0], reactor),
        noDelayByDefault(endpoints[1], reactor),
    )


#: Where each of Twisted's server strings takes C{backlog} by position
#: (the prefix is 0).
_TWISTED_BACKLOG_SLOTS = {"tcp": 3, "tcp6": 2, "unix": 3, "ssl": 6}


def _backlogSlot(prefix: str) -> int | None:
    spec = SPECS.get((prefix, "server"))
    if spec is None:
        return _TWISTED_BACKLOG_SLOTS.get(prefix)
    names = [o.name for o in spec.options]
    if "backlog" not in names:
        return None
    slots = [o.name for o in spec.positionals]
    return slots.index("backlog") + 1 if "backlog" in slots else sys.maxsize


def withRelayBacklog(listen: str) -> str:
    """
    Give a relay's server string the relay's listen queue,
    L{RELAY_BACKLOG}, unless it sets one itself: a relay takes bursts of
    connections that Twisted's 50 would overflow.

    @param listen: A server endpoint string.
    @return: The same string, with C{backlog} added if its type (ours, or
        one of Twisted's that takes one) takes a C{backlog} and the string
        does not set it.
    """
    tokens = tokenize(listen)
    slot = _backlogSlot(tokens.args[0].lower())
    if (
        slot is None
        or tokens.dangling is not None
        or "backlog" in tokens.kwargs
        or len(tokens.args) > slot
    ):
        return listen
    return f"{listen}:backlog={RELAY_BACKLOG}"


@implementer(ILogFilterPredicate)
class RelayLogPredicate:
    """
    What the relay command logs: the relay's own events, or with C{quiet}
    only the address it listens on and the statistics; warnings and errors
    from anywhere.

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
        if event.get("relayStats"):
            # Asked for, with --stats or SIGUSR1, even when quiet.
            return yes
        if self.quiet or event.get("log_namespace") != log.namespace:
            return no
        return yes
