"""
How a relay joins its two connected sides: with a
L{SplicePump <txendpoints._relay._splice.SplicePump>} when both are TCP
sockets on Linux, through the transports otherwise.

L{whyNotSplice} decides.  A relay that can splice starts on its transports
all the same (L{joinBySplice}), so that a short exchange never pays for
the pipes; once one side has sent L{SPLICE_AFTER} bytes, it is a stream,
and L{spliceNow} moves it to a pump, at a read that finds nothing left in
either transport's write buffer.  What the pump says then becomes what
the transports would have said: byte counts, end of input, a clean close
once both ends were passed on, a lost side (which the relay passes on as a
reset), and, if the kernel refuses to splice, a fall back to the
transports.

It may import L{txendpoints._relay._splice} and Twisted; it knows the relay
only by the L{JoinedRelay} protocol (L{txendpoints._relay._relay} imports
it).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from typing import Protocol as _Protocol

from twisted.internet import tcp
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IReactorFDSet, ISSLTransport
from twisted.logger import Logger
from twisted.python.failure import Failure

from ._splice import SplicePump

log = Logger(namespace="txendpoints.relay")

#: How many bytes one side sends through the transports before the relay
#: moves to splice(2): two of Twisted's reads.  A request and its answer
#: stay on the transports, cheaper for them than setting up a pump; a
#: stream soon stops paying Python for every byte.
SPLICE_AFTER = 2 * 65536

#: The environment variable that turns the splice path off (C{no}, C{0},
#: C{false}, C{off}), to compare the paths or work around a kernel, or
#: makes every connection splice from its first byte (C{always}).
SWITCH = "TXENDPOINTS_SPLICE"


def _switch(environ: Mapping[str, str] | None) -> str:
    return (os.environ if environ is None else environ).get(SWITCH, "").strip().lower()


class JoinedSide(_Protocol):
    """
    What L{joinBySplice} uses of one side of a relay.
    """

    transport: Any
    role: str
    received: int
    readClosed: bool
    lost: bool
    producing: bool
    other: Any
    early: list[bytes]
    earlySize: int
    paused: bool


class JoinedRelay(_Protocol):
    """
    What L{joinBySplice} uses of a relay
    (L{txendpoints._relay._relay.Relay}).
    """

    number: int
    peer: str
    factory: Any
    _pump: SplicePump | None
    _spliceAfter: int | None
    _aborting: bool

    @property
    def accepted(self) -> JoinedSide: ...

    @property
    def outgoing(self) -> JoinedSide | None: ...

    def _end(self, ending: str) -> None: ...

    def _joinTransports(self) -> None: ...


def whyNotSplice(
    reactor: object,
    transports: Sequence[object],
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
) -> str | None:
    """
    Say why two transports cannot be joined by a L{SplicePump}.

    @param reactor: The reactor the transports run on.
    @param transports: The two transports.
    @param environ: The environment, for L{SWITCH}; L{os.environ} by default.
    @param platform: The platform, as L{sys.platform} names it.
    @return: Why not, as text for the log, or L{None} if they can be.
    """
    if _switch(environ) in {"0", "no", "false", "off"}:
        return f"{SWITCH} turns it off"
    if not platform.startswith("linux") or not hasattr(os, "splice"):
        return "splice(2) is Linux only"
    if not IReactorFDSet.providedBy(reactor):
        return "the reactor cannot watch descriptors"
    for transport in transports:
        if ISSLTransport.providedBy(transport):
            return "a side is TLS"
        # Twisted's own TCP transport: a socket, and stopReading and
        # stopWriting that hand its descriptor over while the pump runs.
        if not isinstance(transport, tcp.Connection):
            return "a side is not a TCP transport"
        handle = transport.getHandle()
        if not isinstance(handle, socket.socket) or handle.family not in (
            socket.AF_INET,
            socket.AF_INET6,
        ):
            return "a side is not a TCP socket"
    return None


class _RelayEvents:
    """
    Tells a relay what its pump says, the way its transports would.

    @ivar sides: The relay's sides, in the pump's order.
    """

    def __init__(self, relay: JoinedRelay, sides: tuple[JoinedSide, JoinedSide]):
        self.relay = relay
        self.sides = sides

    def pumpMoved(self, side: int, count: int) -> None:
        self.sides[side].received += count

    def pumpInputEnded(self, side: int) -> None:
        joined = self.sides[side]
        joined.readClosed = True
        self.relay._end(f"closed by the {joined.role}")

    def pumpFinished(self) -> None:
        # Both ends were passed on and nothing is left in the pipes.  Both
        # sockets are shut down both ways, so loseConnection would wait for
        # a write that the reactor reports as a hang-up; close as Twisted
        # does for a transport whose writing half is closed already.
        self.relay._pump = None
        for joined in self.sides:
            if joined.transport.connected:
                done = Failure(ConnectionDone())  # type: ignore[no-untyped-call]
                joined.transport.connectionLost(done)

    def pumpLost(self, side: int, reason: Failure) -> None:
        # What the reactor does for a transport whose read or write failed:
        # its connectionLost closes the socket and tells the relay, which
        # resets the other side.
        self.relay._pump = None
        self.sides[side].transport.connectionLost(reason)

    def pumpRefused(self, unsent: bytes, reason: str) -> None:
        relay = self.relay
        relay._pump = None
        _logPath(relay, f"through the transports ({reason})")
        for joined in self.sides:
            joined.transport.resumeProducing()
        relay._joinTransports()
        if unsent:
            self.sides[1].transport.write(unsent)


def _logPath(relay: JoinedRelay, how: str) -> None:
    emit: Callable[..., None] = log.debug
    relay.factory._log(
        emit,
        "#{relay} from {peer} relayed {how}",
        relay=relay.number,
        peer=relay.peer,
        how=how,
    )


def _nothingBuffered(transport: Any) -> bool:
    # Twisted offers no public way to ask; these are FileDescriptor's two
    # write buffers (the same since Twisted 8).  The pump would overtake
    # bytes still in them.
    pending = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    return bool(transport.connected and not transport.disconnecting and not pending)


def _startPump(relay: JoinedRelay, first: JoinedSide, prefix: bytes) -> str | None:
    """
    Join the relay's sides with a pump, C{first}'s unsent bytes first.

    @return: Why not, if the pump could not start (nothing was changed).
    """
    second = first.other
    events = _RelayEvents(relay, (first, second))
    pump = SplicePump(
        relay.factory.reactor,
        (first.transport, second.transport),
        events,
        prefix,
        getattr(relay.factory, "splicePipes", None),
    )
    # Set first: what the pump says while it starts may clear it.
    relay._pump, relay._spliceAfter = pump, None
    try:
        pump.start()
    except OSError as e:
        # Out of descriptors or pipe memory: this connection still works.
        relay._pump = None
        return f"no pipe: {e.strerror}"
    _logPath(relay, f"by splice(2) after {first.received - len(prefix)} bytes")
    return None


def joinBySplice(relay: JoinedRelay, after: int | None = None) -> bool:
    """
    Decide how a relay's two connected sides are joined, and log why if
    they cannot be spliced.

    @param relay: A relay whose outgoing side has just connected, with
        nothing written to either transport yet.
    @param after: When to move to splice(2): L{SPLICE_AFTER} by default,
        0 (at once) if L{SWITCH} says C{always}.
    @return: Whether a pump joined them at once; if not, the relay is to
        use its transports, and L{spliceNow} may move it to a pump later.
    """
    accepted, outgoing = relay.accepted, relay.outgoing
    assert outgoing is not None
    if after is None:
        after = 0 if _switch(None) == "always" else SPLICE_AFTER
    if accepted.readClosed:
        # Rare, and the transports already know how to pass it on.
        why: str | None = "the client's input ended while connecting"
    else:
        why = whyNotSplice(
            relay.factory.reactor, (accepted.transport, outgoing.transport)
        )
    if why is None and after == 0:
        why = _startPump(relay, accepted, b"".join(accepted.early))
        if why is None:
            accepted.early, accepted.earlySize, accepted.paused = [], 0, False
            return True
    if why is None:
        # Logged if it moves: most connections that can are short, and a
        # line for each would cost them more than the check.
        relay._spliceAfter = after
    else:
        _logPath(relay, f"through the transports ({why})")
    return False


def spliceNow(relay: JoinedRelay, side: JoinedSide, data: bytes) -> bool:
    """
    Move a relay to a pump at a read of one of its sides, if it is due
    (L{joinBySplice}) and nothing is left in either write buffer.

    @param relay: The relay.
    @param side: The side that read C{data}.
    @param data: What it read, not yet passed on.
    @return: Whether a pump took over, with C{data} to send first.
    """
    after = relay._spliceAfter
    other = side.other
    if after is None or side.received < after or relay._aborting:
        return False
    for each in (side, other):
        if each.readClosed or each.lost or not _nothingBuffered(each.transport):
            return False
    for each in (side, other):
        if each.producing:
            each.producing = False
            each.other.transport.unregisterProducer()
    why = _startPump(relay, side, data)
    if why is None:
        return True
    # Not now, not later: back to the transports as they were.
    relay._spliceAfter = None
    _logPath(relay, f"through the transports ({why})")
    for each in (side, other):
        each.producing = True
        each.other.transport.registerProducer(each.transport, True)
    return False
