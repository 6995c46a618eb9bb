"""
The idle timeout of one relayed connection (C{--idle-timeout}): a timer
that fires once no byte has moved either way for that long.

L{watchIdle} gives a relay its watch, and closes it when idle.  It may
import Twisted and the standard library; it knows the relay
(L{txendpoints._relay._relay.Relay}) only by the attributes it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

log = Logger(namespace="txendpoints.relay")


class IdleWatch:
    """
    Call C{onIdle} once no byte has moved for C{timeout} seconds, and
    C{onStuck} if the connection is still open one more C{timeout} later.

    The relay's protocols call L{moved} as bytes arrive.  Bytes that move
    without them (a pump in the kernel) are seen through C{byteCount} each
    time the timer fires, and count as moving then.

    @ivar timeout: The idle timeout, in seconds.
    @ivar lastMoved: When a byte last moved, as far as is known.
    """

    def __init__(
        self,
        clock: IReactorTime,
        timeout: float,
        byteCount: Callable[[], int],
        onIdle: Callable[[], object],
        onStuck: Callable[[], object],
    ) -> None:
        """
        @param clock: The reactor's clock.
        @param timeout: The idle timeout, in seconds.
        @param byteCount: How many bytes have moved so far, both ways.
        @param onIdle: Called once the connection is idle.
        @param onStuck: Called if it is still open C{timeout} after that.
        """
        self.clock = clock
        self.timeout = timeout
        self.byteCount = byteCount
        self.onIdle = onIdle
        self.onStuck = onStuck
        self.lastMoved = clock.seconds()
        self._seen = byteCount()
        self._timer: IDelayedCall | None = clock.callLater(timeout, self._check)

    def moved(self) -> None:
        """
        Note that bytes moved just now.
        """
        self.lastMoved = self.clock.seconds()

    def _check(self) -> None:
        now = self.clock.seconds()
        count = self.byteCount()
        if count != self._seen:
            self._seen = count
            if now - self.lastMoved >= self.timeout:
                self.lastMoved = now
        idle = now - self.lastMoved
        if idle < self.timeout:
            self._timer = self.clock.callLater(self.timeout - idle, self._check)
            return
        self._timer = self.clock.callLater(self.timeout, self.onStuck)
        self.onIdle()

    def stop(self) -> None:
        """
        Stop watching: the connection is gone.
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


def watchIdle(relay: Any) -> IdleWatch | None:
    """
    Watch a relay whose two sides are both connected, if it has an idle
    timeout: once idle, it is closed both ways (and logged as "idle for N
    s"); still open one more timeout later, it is aborted.

    @param relay: The relay.
    @return: The watch, or L{None} without an idle timeout.
    """
    timeout = relay.factory.settings.idleTimeout
    if timeout is None:
        return None

    def closeIdle() -> None:
        relay._end(f"idle for {timeout:g} s")
        relay.factory._log(
            log.info,
            "#{relay} from {peer}: idle for {idle:g} s; closing both sides",
            relay=relay.number,
            peer=relay.peer,
            idle=timeout,
        )
        if relay._pump is not None:
            # A splice pump owns the descriptors: it lets go first.  Nothing
            # moved for a whole timeout, so its pipes hold at most what a
            # peer that reads nothing left there, which the abort below
            # would drop too.
            relay._pump.stop()
            relay._pump = None
        # If a peer reads nothing, this close waits on what is buffered for
        # it; the watch aborts the rest one more idle period later.
        for side in (relay.accepted, relay.outgoing):
            if side is not None and not side.lost:
                side.transport.loseConnection()

    return IdleWatch(
        relay.factory.reactor,
        timeout,
        lambda: sum(relay.byteCounts()),
        closeIdle,
        relay.abort,
    )
