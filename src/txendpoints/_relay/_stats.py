"""
A relay's statistics: what its factory counts, and the one log line that
reports them, on C{SIGUSR1} and every C{--stats} seconds.

It may import L{txendpoints._relay._relay}, Twisted and the standard
library.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from typing import Any

from attrs import define

from ._relay import Relay, log


@define
class RelayStats:
    """
    Counts since the relay started.

    @ivar accepted: Connections accepted and relayed (or being connected).
    @ivar refused: Connections closed at once, by a limit or an access rule.
    @ivar failed: Relays whose outgoing connection could not be made.
    @ivar finished: Relays that have ended, failed ones included.
    @ivar bytesUp: Bytes from clients, of finished relays.
    @ivar bytesDown: Bytes to clients, of finished relays.
    """

    accepted: int = 0
    refused: int = 0
    failed: int = 0
    finished: int = 0
    bytesUp: int = 0
    bytesDown: int = 0

    def relayFinished(self, relay: Relay) -> None:
        """
        Count a relay that has ended.

        @param relay: The relay.
        """
        self.finished += 1
        if relay.connectFailure is not None:
            self.failed += 1
        up, down = relay.byteCounts()
        self.bytesUp += up
        self.bytesDown += down

    def log(self, openRelays: Iterable[Relay]) -> None:
        """
        Log one line with these counts, and the bytes of open relays too.

        @param openRelays: The relays open now.
        """
        opened = list(openRelays)
        up, down = self.bytesUp, self.bytesDown
        for relay in opened:
            relayUp, relayDown = relay.byteCounts()
            up += relayUp
            down += relayDown
        log.info(
            "stats: {open} open, {accepted} accepted, {refused} refused, "
            "{failed} failed, {finished} finished, "
            "{bytesUp} bytes up, {bytesDown} bytes down",
            open=len(opened),
            accepted=self.accepted,
            refused=self.refused,
            failed=self.failed,
            finished=self.finished,
            bytesUp=up,
            bytesDown=down,
            relayStats=True,
        )


def onStatsSignal(reactor: Any, report: Callable[[], object]) -> Callable[[], None]:
    """
    Call C{report} in the reactor thread on each C{SIGUSR1}.

    @param reactor: The reactor, for C{callFromThread}.
    @param report: What to call.
    @return: A function that puts the previous handler back; nothing is
        installed, and it does nothing, where there is no C{SIGUSR1} or
        this is not the main thread.
    """
    number = getattr(signal, "SIGUSR1", None)
    if number is None:
        return lambda: None

    def handle(signum: int, frame: object) -> None:
        # A signal arrives between two bytecodes, perhaps inside the
        # reactor; callFromThread is safe there and wakes it up.
        reactor.callFromThread(report)

    try:
        previous = signal.signal(number, handle)
    except ValueError:
        return lambda: None

    def restore() -> None:
        if signal.getsignal(number) is handle:
            signal.signal(number, previous)

    return restore
