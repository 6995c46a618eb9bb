"""
The factory behind a relay's listening port: one L{Relay} per accepted
connection, a limit on how many are open, and draining them at shutdown.

It may import L{txendpoints._relay._relay}, the string layer, and below.
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
from ._pipes import PipePool
from ._relay import Relay, log


class RelayFactory(Factory):
    """
    Builds a L{Relay} for each accepted connection.

    @ivar reactor: The reactor, for time.
    @ivar connectTo: Where each relay connects.
    @ivar connectName: What to call C{connectTo} in the log.
    @ivar maxConnections: How many relays may be open at once; more are
        refused (closed at once).  L{None} for no limit.
    @ivar relays: The relays open now.
    @ivar onFinished: Called with each relay that has finished, if set.
    """

    def __init__(
        self,
        reactor: IReactorTime,
        connectTo: IStreamClientEndpoint,
        maxConnections: int | None = None,
        connectName: str | None = None,
    ) -> None:
        """
        @param reactor: The reactor, for time.
        @param connectTo: The endpoint to connect for each relay.
        @param maxConnections: The most relays open at once, or L{None}.
        @param connectName: What to call C{connectTo} in the log, such as
            the string it was built from; by default, its L{describe}
            string if it is one of ours, or its C{repr}.
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
        self.relays: set[Relay] = set()
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
        if self.maxConnections is not None and len(self.relays) >= self.maxConnections:
            self._log(
                log.warn,
                "#{relay} from {peer} refused: {open} connections open already",
                relay=self._count,
                peer=peer,
                open=len(self.relays),
            )
            return None
        relay = Relay(self, self._count, peer)
        self.relays.add(relay)
        return relay.accepted

    def _relayFinished(self, relay: Relay) -> None:
        self.relays.discard(relay)
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
                "waiting up to {grace:g} s for {count} open connections",
                grace=grace,
                count=len(self.relays),
            )
        timer: IDelayedCall = self.reactor.callLater(grace, self.abortAll)

        def cancelTimer(result: None) -> None:
            if timer.active():
                timer.cancel()

        return idle.addCallback(cancelTimer)

    def abortAll(self) -> None:
        """
        Abort every open relay.
        """
        for relay in list(self.relays):
            relay.abort()
