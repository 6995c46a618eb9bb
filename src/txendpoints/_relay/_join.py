"""
How a relay joins its two connected sides: with a
L{SplicePump <txendpoints._relay._splice.SplicePump>} when both are TCP
sockets on Linux, through the transports otherwise.

L{whyNotSplice} decides; L{joinBySplice} starts the pump for a relay and
turns what the pump says into what the transports would have said: byte
counts, end of input, a clean close once both ends were passed on, a lost
side (which the relay passes on as a reset), and, if the kernel refuses to
splice, a fall back to the transports.

It may import L{txendpoints._relay._splice} and Twisted; it knows the relay
only by the L{JoinedRelay} protocol (L{txendpoints._relay._relay} imports
it).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any
from typing import Protocol as _Protocol

from twisted.internet import tcp
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IReactorFDSet, ISSLTransport
from twisted.logger import Logger
from twisted.python.failure import Failure

from ._splice import SplicePump

log = Logger(namespace="txendpoints.relay")

#: The environment variable that turns the splice path off (C{no}, C{0},
#: C{false}, C{off}): to compare the two paths, or to work around a kernel.
SWITCH = "TXENDPOINTS_SPLICE"


class JoinedSide(_Protocol):
    """
    What L{joinBySplice} uses of one side of a relay.
    """

    transport: Any
    role: str
    received: int
    readClosed: bool
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

    @property
    def accepted(self) -> JoinedSide: ...

    @property
    def outgoing(self) -> JoinedSide | None: ...

    def _end(self, ending: str) -> None: ...

    def _joinTransports(self) -> None: ...


def whyNotSplice(
    reactor: object,
    transports: Sequence[object],
    environ: dict[str, str] | None = None,
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
    switch = (os.environ if environ is None else environ).get(SWITCH, "")
    if switch.strip().lower() in {"0", "no", "false", "off"}:
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
    """

    def __init__(self, relay: JoinedRelay) -> None:
        self.relay = relay

    def _side(self, index: int) -> JoinedSide:
        side = self.relay.accepted if index == 0 else self.relay.outgoing
        assert side is not None
        return side

    def pumpMoved(self, side: int, count: int) -> None:
        self._side(side).received += count

    def pumpInputEnded(self, side: int) -> None:
        joined = self._side(side)
        joined.readClosed = True
        self.relay._end(f"closed by the {joined.role}")

    def pumpFinished(self) -> None:
        # Both ends were passed on and nothing is left in the pipes.  Both
        # sockets are shut down both ways, so loseConnection would wait for
        # a write that the reactor reports as a hang-up; close as Twisted
        # does for a transport whose writing half is closed already.
        self.relay._pump = None
        for index in (0, 1):
            transport = self._side(index).transport
            if transport.connected:
                done = Failure(ConnectionDone())  # type: ignore[no-untyped-call]
                transport.connectionLost(done)

    def pumpLost(self, side: int, reason: Failure) -> None:
        # What the reactor does for a transport whose read or write failed:
        # its connectionLost closes the socket and tells the relay, which
        # resets the other side.
        self.relay._pump = None
        self._side(side).transport.connectionLost(reason)

    def pumpRefused(self, unsent: bytes, reason: str) -> None:
        relay = self.relay
        relay._pump = None
        _logPath(relay, f"through the transports ({reason})")
        accepted = relay.accepted
        accepted.early = [unsent] if unsent else []
        accepted.earlySize = len(unsent)
        accepted.paused = False
        for index in (0, 1):
            self._side(index).transport.resumeProducing()
        relay._joinTransports()


def _logPath(relay: JoinedRelay, how: str) -> None:
    emit: Callable[..., None] = log.debug
    relay.factory._log(
        emit,
        "#{relay} from {peer} relayed {how}",
        relay=relay.number,
        peer=relay.peer,
        how=how,
    )


def joinBySplice(relay: JoinedRelay) -> SplicePump | None:
    """
    Start a pump between a relay's two connected sides, if they can be
    spliced, and log which way the relay goes.

    @param relay: A relay whose outgoing side has just connected, with
        nothing written to either transport yet.
    @return: The running pump, or L{None} if the relay is to use its
        transports (then nothing was changed).
    """
    accepted, outgoing = relay.accepted, relay.outgoing
    assert outgoing is not None
    transports = (accepted.transport, outgoing.transport)
    pump = None
    if accepted.readClosed:
        # Rare, and the transports already know how to pass it on.
        why: str | None = "the client's input ended while connecting"
    else:
        why = whyNotSplice(relay.factory.reactor, transports)
    if why is None:
        events = _RelayEvents(relay)
        pump = SplicePump(
            relay.factory.reactor,
            transports,
            events,
            b"".join(accepted.early),
            getattr(relay.factory, "splicePipes", None),
        )
        # Set first: what the pump says while it starts may clear it.
        relay._pump = pump
        try:
            pump.start()
        except OSError as e:
            # Out of descriptors or pipe memory: this connection still works.
            why, pump, relay._pump = f"no pipe: {e.strerror}", None, None
    if pump is None:
        _logPath(relay, f"through the transports ({why})")
        return None
    accepted.early, accepted.earlySize, accepted.paused = [], 0, False
    _logPath(relay, "by splice(2)")
    return pump
