"""
The factory behind a relay's listening port: one L{Relay} per accepted
connection, limits on how many are open (in all, and per source address),
the C{--allow} and C{--deny} rules, the statistics, and draining the
relays at shutdown.

It may import L{txendpoints._relay._relay}, L{txendpoints._relay._access},
L{txendpoints._relay._options}, L{txendpoints._relay._stats}, the string
layer, and below.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, Protocol

from .._net import formatAddress
from .._strings._describe import describe
from ._access import Address, sourceAddress
from ._options import RelaySettings
from ._pipes import PipePool
from ._relay import Relay, log
from ._stats import RelayStats


class RelayFactory(Factory):
    """
    Builds a L{Relay} for each accepted connection.

    @ivar reactor: The reactor, for time.
    @ivar connectTo: Where each relay connects.
    @ivar connectName: What to call C{connectTo} in the log.
    @ivar maxConnections: How many relays may be open at once; more are
        refused (closed at once).  L{None} for no limit.
    @ivar settings: What relays do beyond moving bytes.
    @ivar relays: The relays open now.
    @ivar stats: What has been counted since the start.
    @ivar onFinished: Called with each relay that has finished, if set.
    """

    def __init__(
        self,
        reactor: IReactorTime,
        connectTo: IStreamClientEndpoint,
        maxConnections: int | None = None,
        connectName: str | None = None,
        settings: RelaySettings | None = None,
    ) -> None:
        """
        @param reactor: The reactor, for time.
        @param connectTo: The endpoint to connect for each relay.
        @param maxConnections: The most relays open at once, or L{None}.
        @param connectName: What to call C{connectTo} in the log, such as
            the string it was built from; by default, its L{describe}
            string if it is one of ours, or its C{repr}.
        @param settings: What relays do beyond moving bytes; by default,
            nothing.
        """
        self.reactor = reactor
        # Twisted would log "Starting factory" for each listen; our own
        # log says what matters.
        self.noisy = False
        self.connectTo = connectTo
        if connectName is None:
            try:
                connectName = describe(connectTo)
            except TypeError:
                connectName = repr(connectTo)
        self.connectName = connectName
        self.maxConnections = maxConnections
        self.settings = RelaySettings() if settings is None else settings
        self.stats = RelayStats()
        self.relays: set[Relay] = set()
        self._perSource: dict[Address, int] = {}
        self._sources: dict[Relay, Address] = {}
        self.onFinished: Callable[[Relay], object] | None = None
        self._count = 0
        self._idle: list[Deferred[None]] = []
        self._heldLog: list[Callable[[], None]] | None = None
        #: Issue 18: the splice path's pipes, reused across connections.
        self.splicePipes = PipePool()

    def _log(self, emit: Callable[..., None], format: str, **fields: object) -> None:
        if self._heldLog is None:
            emit(format, **fields)
        else:
            self._heldLog.append(lambda: emit(format, **fields))

    def holdLog(self) -> None:
        """
        Hold back the log of each connection until L{releaseLog}: a port
        that connects inside C{listen}, as a standard-I/O one does, would
        otherwise log its connection before where it listens.
        """
        if self._heldLog is None:
            self._heldLog = []

    def releaseLog(self) -> None:
        """
        Log what L{holdLog} held back, and from now on log as it happens.
        """
        held, self._heldLog = self._heldLog or [], None
        for emit in held:
            emit()

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        self._count += 1
        peer = formatAddress(addr)
        refusal = self.settings.access.refusal(addr)
        if refusal is not None:
            self.stats.refused += 1
            self._log(
                log.warn,
                "#{relay} from {peer} refused by {rule}",
                relay=self._count,
                peer=peer,
                rule=refusal,
            )
            return None
        source = sourceAddress(addr)
        limit = self.settings.maxPerSource
        if (
            limit is not None
            and source is not None
            and self._perSource.get(source, 0) >= limit
        ):
            self.stats.refused += 1
            self._log(
                log.warn,
                "#{relay} from {peer} refused: --max-per-source {limit} reached "
                "for {source}",
                relay=self._count,
                peer=peer,
                limit=limit,
                source=str(source),
            )
            return None
        if self.maxConnections is not None and len(self.relays) >= self.maxConnections:
            self.stats.refused += 1
            self._log(
                log.warn,
                "#{relay} from {peer} refused: {connections} open already",
                relay=self._count,
                peer=peer,
                open=len(self.relays),
                connections=counted(len(self.relays), "connection"),
            )
            return None
        relay = Relay(self, self._count, peer)
        self.relays.add(relay)
        self.stats.accepted += 1
        if source is not None and limit is not None:
            self._sources[relay] = source
            self._perSource[source] = self._perSource.get(source, 0) + 1
        return relay.accepted

    def _relayFinished(self, relay: Relay) -> None:
        self.relays.discard(relay)
        self.stats.relayFinished(relay)
        source = self._sources.pop(relay, None)
        if source is not None:
            left = self._perSource.pop(source) - 1
            if left:
                self._perSource[source] = left
        if self.onFinished is not None:
            self.onFinished(relay)
        if not self.relays:
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)

    def whenIdle(self) -> Deferred[None]:
        """
        @return: A L{Deferred} that fires once no relay is open.
        """
        if not self.relays:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._idle.append(d)
        return d

    def drain(self, grace: float) -> Deferred[None]:
        """
        Let open relays finish for C{grace} seconds, then abort the rest.

        @param grace: Seconds to wait before aborting.
        @return: A L{Deferred} that fires once no relay is open.
        """
        idle = self.whenIdle()
        if idle.called:
            return idle
        if grace > 0:
            log.info(
                "waiting up to {grace:g} s for {connections}",
                grace=grace,
                count=len(self.relays),
                connections=counted(len(self.relays), "open connection"),
            )
        timer: IDelayedCall = self.reactor.callLater(grace, self.abortAll)

        def cancelTimer(result: None) -> None:
            if timer.active():
                timer.cancel()

        return idle.addCallback(cancelTimer)

    def logStats(self) -> None:
        """
        Log one line of statistics.
        """
        self.stats.log(self.relays)

    def abortAll(self) -> None:
        """
        Abort every open relay.
        """
        for relay in list(self.relays):
            relay.abort()


def counted(number: int, noun: str) -> str:
    """
    A number of things, in words: C{1 connection}, C{2 connections}.

    @param number: How many.
    @param noun: The thing, singular; its plural adds C{s}.
    @return: The number and the noun.
    """
    return f"{number} {noun}{'' if number == 1 else 's'}"
