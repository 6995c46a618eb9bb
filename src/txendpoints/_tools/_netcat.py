"""
The heart of C{txendpoints connect} and C{txendpoints listen} (netcat for
any endpoint string; the commands are in L{txendpoints._tools._nccommands}).

A L{Session} joins standard I/O (through a C{tx-stdio} client endpoint, so
it gets that transport's flushing and mode restoring) to one network
connection at a time: bytes both ways with flow control, the end of input
on either side passed on as a half-close, and the command's exit status
from how the connection ended.

The top layer: it may import every layer below it.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IPushProducer,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

#: Exit statuses: a clean end, a failed connect or listen or a connection
#: lost uncleanly, a bad endpoint string.
CLEAN, FAILED, BAD_STRING = 0, 1, 2


def _halfClose(transport: Any) -> None:
    # A transport that cannot half-close (TLS, say) is left open: closing
    # it whole would drop the peer's answer to what it was sent, and the
    # peer ends it when it is done.
    loseWriteConnection = getattr(transport, "loseWriteConnection", None)
    if loseWriteConnection is not None:
        loseWriteConnection()


@implementer(IPushProducer)
class _Pacer:
    """
    Pauses and resumes a transport for another one's flow control, but
    never stops it: the transport it is registered with, when lost, would
    otherwise close it (Twisted stops a producer along with its consumer),
    and standard I/O outlives each connection of C{listen --keep}.
    """

    def __init__(self, transport: Any) -> None:
        self._transport = transport

    def pauseProducing(self) -> None:
        self._transport.pauseProducing()

    def resumeProducing(self) -> None:
        self._transport.resumeProducing()

    def stopProducing(self) -> None:
        pass


@implementer(IHalfCloseableProtocol)
class _StdioSide(Protocol):
    """
    The protocol on standard input and output.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def dataReceived(self, data: bytes) -> None:
        self.session.fromStdin(data)

    def readConnectionLost(self) -> None:
        self.session.stdinEnded()

    def writeConnectionLost(self) -> None:
        self.session.stdoutClosed()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.session.stdioLost()


@implementer(IHalfCloseableProtocol)
class _NetSide(Protocol):
    """
    The protocol on one network connection.

    @ivar ended: Whether its input has ended.
    @ivar sent: Whether its output has been half-closed, all of it sent.
    """

    ended = False
    sent = False

    def __init__(self, session: Session) -> None:
        self.session = session

    def connectionMade(self) -> None:
        self.session.netConnected(self)

    def dataReceived(self, data: bytes) -> None:
        self.session.fromNet(self, data)

    def readConnectionLost(self) -> None:
        self.ended = True
        self.session.netEnded(self)

    def writeConnectionLost(self) -> None:
        self.sent = True
        self.session.netSent(self)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.session.netLost(self, reason)


class Session:
    """
    Standard I/O joined to network connections, one at a time.

    @ivar done: Fires with the exit status once the session is over.
    @ivar status: The exit status so far.
    """

    def __init__(
        self,
        stdio: IStreamClientEndpoint,
        keep: bool = False,
        errors: TextIO | None = None,
        name: str = "txendpoints",
        endWithInput: bool = False,
    ) -> None:
        """
        @param stdio: Connects to standard I/O (a C{tx-stdio} endpoint).
        @param keep: Whether to serve connection after connection (for
            C{listen --keep}); else the session ends with the first.
        @param endWithInput: Whether the end of the connection's input ends
            the session (once output is flushed) even while standard input
            goes on: for a terminal, whose input ends only when someone
            types end-of-file.  Otherwise each direction ends on its own,
            and the session when both have, so that no byte read from a
            pipe or file is dropped.
        @param errors: Where messages go; L{sys.stderr} by default.
        @param name: What messages start with.
        """
        self._stdioEndpoint = stdio
        self.keep = keep
        self.endWithInput = endWithInput
        self._errors = errors
        self._name = name
        self.done: Deferred[int] = Deferred()
        self.status = CLEAN
        self._stdio: _StdioSide | None = None
        self._stdioStarting = False
        self._current: _NetSide | None = None
        self._waiting: list[_NetSide] = []
        self._stdinEnded = False
        self._stdoutClosing = False
        self._stdoutClosed = False
        self._ending = False
        self._finished = False

    def say(self, message: str) -> None:
        """
        Print a message on standard error (or the stream given).

        @param message: The message, without the command's name.
        """
        print(f"{self._name}: {message}", file=self._errors or sys.stderr, flush=True)

    def factory(self) -> Factory:
        """
        @return: A factory of protocols for network connections.
        """
        return Factory.forProtocol(lambda: _NetSide(self))

    # The network side.

    def netConnected(self, net: _NetSide) -> None:
        # Nothing can be done with its bytes until it is joined to
        # standard I/O.
        net.transport.pauseProducing()  # type: ignore[union-attr]
        if self._current is not None or self._ending:
            self._waiting.append(net)
            return
        self._current = net
        if self._stdio is None:
            self._startStdio()
        else:
            self._join()

    def _startStdio(self) -> None:
        if self._stdioStarting:
            return
        self._stdioStarting = True

        def started(protocol: object) -> None:
            self._stdioStarting = False
            if self._ending:
                stdio.transport.abortConnection()  # type: ignore[union-attr]
            else:
                self._join()
            self._finishIfDone()

        def failed(reason: Failure) -> None:
            self._stdioStarting = False
            self.say(f"cannot use standard I/O: {reason.getErrorMessage()}")
            self.status = FAILED
            self.abort()

        stdio = _StdioSide(self)
        self._stdio = stdio
        self._stdioEndpoint.connect(Factory.forProtocol(lambda: stdio)).addCallbacks(
            started, failed
        )

    def _join(self) -> None:
        stdio, net = self._stdio, self._current
        if stdio is None or net is None or stdio.transport is None:
            return
        assert net.transport is not None
        if not self._stdoutClosed:
            stdio.transport.registerProducer(_Pacer(net.transport), True)  # type: ignore[attr-defined]
        if not self._stdinEnded:
            net.transport.registerProducer(_Pacer(stdio.transport), True)  # type: ignore[attr-defined]
            stdio.transport.resumeProducing()  # type: ignore[attr-defined]
        else:
            _halfClose(net.transport)
        net.transport.resumeProducing()  # type: ignore[attr-defined]

    def fromNet(self, net: _NetSide, data: bytes) -> None:
        if net is self._current and self._stdio is not None and not self._stdoutClosed:
            assert self._stdio.transport is not None
            self._stdio.transport.write(data)

    def netEnded(self, net: _NetSide) -> None:
        transport: Any = net.transport
        if net is not self._current:
            # One waiting has nothing to say.
            transport.loseConnection()
            return
        if self.keep:
            # Input goes on to the next connection, so this one is over;
            # until the next, input waits where it is.
            stdio = self._stdio
            if not self._stdinEnded and stdio is not None and stdio.transport:
                transport.unregisterProducer()
                stdio.transport.pauseProducing()  # type: ignore[attr-defined]
            transport.loseConnection()
            return
        if self.endWithInput:
            self._end()
            return
        # Half-closed by the peer: it may still read.  Output ends here;
        # the connection once input has ended and been sent too.
        stdio = self._stdio
        if stdio is not None and stdio.transport is not None and not self._stdoutClosed:
            self._stdoutClosing = True
            stdio.transport.unregisterProducer()  # type: ignore[attr-defined]
            stdio.transport.loseWriteConnection()  # type: ignore[attr-defined]
        if net.sent:
            net.transport.loseConnection()  # type: ignore[union-attr]

    def netSent(self, net: _NetSide) -> None:
        if net.ended:
            # Both halves are closed, which Twisted does not report as the
            # end of the connection: end it.
            net.transport.loseConnection()  # type: ignore[union-attr]

    def netLost(self, net: _NetSide, reason: Failure) -> None:
        if net in self._waiting:
            self._waiting.remove(net)
            return
        if net is not self._current:
            return
        if not isinstance(reason.value, ConnectionDone):
            self.status = FAILED
            if not self._ending:
                self.say(f"connection lost: {reason.getErrorMessage()}")
        self._current = None
        stdio = self._stdio
        if stdio is not None and stdio.transport is not None:
            if not self._stdoutClosed:
                stdio.transport.unregisterProducer()  # type: ignore[attr-defined]
            if not self._stdinEnded:
                stdio.transport.pauseProducing()  # type: ignore[attr-defined]
        if self.keep and not self._ending:
            if self._waiting:
                self.netConnected(self._waiting.pop(0))
            return
        self._end()

    # The standard I/O side.

    def fromStdin(self, data: bytes) -> None:
        net = self._current
        if net is not None and net.transport is not None:
            net.transport.write(data)

    def stdinEnded(self) -> None:
        self._stdinEnded = True
        net = self._current
        if net is not None and net.transport is not None:
            net.transport.unregisterProducer()  # type: ignore[attr-defined]
            _halfClose(net.transport)

    def stdoutClosed(self) -> None:
        self._stdoutClosed = True
        if not self._stdoutClosing:
            # The reader of our output went away: what the connection
            # sends can no longer be delivered.
            self.say("standard output closed")
            self.status = FAILED
            self.abort()
            return
        self._finishIfDone()

    def stdioLost(self) -> None:
        # Both halves gone.  Once input has ended and output was closed on
        # request, that is the normal course, and the connection still has
        # input to send; output lost otherwise ends the session.
        wasClosed, self._stdoutClosed = self._stdoutClosed, True
        self._stdinEnded = True
        if not (wasClosed or self._stdoutClosing or self._ending):
            self.stdoutClosed()
            return
        self._finishIfDone()

    # The end.

    def _end(self) -> None:
        """
        End the session: flush and close standard output, close the
        connection (after what it still has to send), then fire L{done}.
        """
        if self._ending:
            self._finishIfDone()
            return
        self._ending = True
        for waiting in self._waiting:
            waiting.transport.loseConnection()  # type: ignore[union-attr]
        stdio = self._stdio
        if self._current is not None:
            transport: Any = self._current.transport
            if not self._stdinEnded:
                # What is left of input is not sent: the connection is over.
                transport.unregisterProducer()
                if stdio is not None and stdio.transport is not None:
                    stdio.transport.pauseProducing()  # type: ignore[attr-defined]
            transport.loseConnection()
        if stdio is not None and stdio.transport is not None and not self._stdoutClosed:
            self._stdoutClosing = True
            stdio.transport.loseWriteConnection()  # type: ignore[attr-defined]
        self._finishIfDone()

    def abort(self) -> None:
        """
        End at once: abort the connections and standard I/O, dropping what
        was not yet written (for a signal, or output nobody reads).
        """
        self._ending = True
        for net in [*self._waiting, *filter(None, [self._current])]:
            net.transport.abortConnection()  # type: ignore[union-attr]
        stdio = self._stdio
        if stdio is not None and stdio.transport is not None:
            self._stdoutClosed = True
            stdio.transport.abortConnection()  # type: ignore[attr-defined]
        self._finishIfDone()

    def _finishIfDone(self) -> None:
        if not self._ending or self._finished:
            return
        if self._current is not None or self._waiting or self._stdioStarting:
            return
        stdio = self._stdio
        if stdio is not None and stdio.transport is not None:
            if not self._stdoutClosed:
                return
            # Output is flushed; stop reading input too, which puts its
            # descriptor back in the mode it was found in.
            self._stdio = None
            self._finished = True
            stdio.transport.loseConnection()
        self._finished = True
        self.done.callback(self.status)
