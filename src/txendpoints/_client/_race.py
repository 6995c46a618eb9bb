"""
Staggered connection attempts with RFC 8305 timing, shared by every client.

L{StaggeredAttempts} races TCP connections to a list of addresses that may
still be growing while it runs (Happy Eyeballs adds addresses as each DNS
family answers).  The next attempt starts when the latest one fails, at
once, or when the attempt delay passes without an answer, whichever comes
first (RFC 8305 section 5).  The first connection to complete wins; every
other attempt is stopped and its protocol is never built.  One deadline
covers the whole race, and cancelling the result stops everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectingCancelledError,
    NoProtocol,
    TimeoutError,
)
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IHandshakeListener,
    IProtocol,
    IProtocolFactory,
)
from twisted.internet.protocol import ClientFactory
from twisted.python.failure import Failure
from zope.interface import alsoProvides

from .._errors import ConnectAttemptsError, makeFailure
from .._net import IPAddress
from ._attempt import _Attempt, _AttemptProtocol

_TimeoutError: Callable[..., Exception] = TimeoutError
_CancelledError: Callable[..., Exception] = ConnectingCancelledError

#: RFC 8305 section 5: an attempt delay MUST NOT be under 10 ms and
#: SHOULD NOT be over 2 s.
MIN_ATTEMPT_DELAY = 0.01
MAX_ATTEMPT_DELAY = 2.0


def clampAttemptDelay(delay: float) -> float:
    """
    Bring an attempt delay within the bounds of RFC 8305 section 5.

    @param delay: Seconds between attempt starts; C{0} means one attempt at
        a time, each waiting for the previous one to fail.
    @return: C{0}, or C{delay} clamped to 10 ms .. 2 s.
    """
    if delay <= 0:
        return 0.0
    return min(max(delay, MIN_ATTEMPT_DELAY), MAX_ATTEMPT_DELAY)


def interleave(
    addresses: Sequence[IPAddress], first: type[IPAddress]
) -> list[IPAddress]:
    """
    Alternate the families, keeping each family's own order (RFC 8305
    section 4, with a first address family count of one).

    @param addresses: Addresses of either family, in resolver order.
    @param first: The family to start with.
    @return: The addresses interleaved, C{first} family first.
    """
    ours = [a for a in addresses if isinstance(a, first)]
    theirs = [a for a in addresses if not isinstance(a, first)]
    result: list[IPAddress] = []
    for i in range(max(len(ours), len(theirs))):
        result.extend(ours[i : i + 1])
        result.extend(theirs[i : i + 1])
    return result


class StaggeredAttempts:
    """
    A race of TCP connection attempts to a list of addresses.

    @ivar deferred: Fires with the winning connection's protocol, or fails
        with the single attempt's failure, a L{ConnectAttemptsError}, a
        L{TimeoutError} at the deadline, a L{ConnectingCancelledError} when
        cancelled, or whatever L{StaggeredAttempts.fail} is given.
    @ivar over: Whether the race has ended.
    """

    over = False

    def __init__(
        self,
        reactor: Any,
        factory: IProtocolFactory,
        host: str,
        port: int,
        cancelAddress: IAddress,
        attemptDelay: float,
        timeout: float | None,
        bindAddress: Callable[[IPAddress], object] = lambda address: None,
        arrange: Callable[[IPAddress | None, list[IPAddress]], list[IPAddress]]
        | None = None,
    ) -> None:
        """
        @param reactor: An L{IReactorTCP<twisted.internet.interfaces.IReactorTCP>} and
            L{IReactorTime<twisted.internet.interfaces.IReactorTime>} provider.
        @param factory: The user's protocol factory; only the winner's
            protocol is built from it.
        @param host: The host as given, for error messages.
        @param port: The port, for error messages.
        @param cancelAddress: The address L{ConnectingCancelledError}
            carries when the race is cancelled.
        @param attemptDelay: Seconds between attempt starts (clamped with
            L{clampAttemptDelay}).
        @param timeout: Seconds until the whole race fails with
            L{TimeoutError}, from now; L{None} for no deadline.  Each
            C{connectTCP} is given the same timeout, which therefore never
            fires before ours.
        @param bindAddress: Gives the C{bindAddress} for C{connectTCP} to an
            address.
        @param arrange: Reorders the untried addresses whenever some are
            added; called with the latest address tried (or L{None}) and
            the untried ones.  By default they are tried in the order added.
        """
        self._reactor = reactor
        self._factory = factory
        self._host = host
        self._port = port
        self._cancelAddress = cancelAddress
        self._delay = clampAttemptDelay(attemptDelay)
        self._timeout = timeout
        self._bindAddress = bindAddress
        self._arrange = arrange
        self._untried: list[IPAddress] = []
        self._attempts: list[_Attempt] = []
        self._failures: list[tuple[IPAddress, Failure]] = []
        self._finished = False
        self._noAddresses: Callable[[], Exception] | None = None
        # Whether the latest attempt is still within its attempt delay.
        self._waiting = False
        self._stagger: IDelayedCall | None = None
        self._cleanups: list[Callable[[], object]] = []
        self.deferred: Deferred[IProtocol] = Deferred(self._cancel)
        self._deadline: IDelayedCall | None = None
        if timeout is not None:
            self._deadline = reactor.callLater(timeout, self._expire)

    def onEnd(self, cleanup: Callable[[], object]) -> None:
        """
        Call C{cleanup} when the race ends, however it ends, before the
        result is delivered; at once if it has already ended (a reactor
        may connect synchronously, ending the race before the caller has
        registered everything it started).

        @param cleanup: Stops something the caller started (a resolution,
            a timer).
        """
        if self.over:
            cleanup()
        else:
            self._cleanups.append(cleanup)

    def add(self, addresses: Sequence[IPAddress]) -> None:
        """
        Add addresses to try, without restarting anything.

        @param addresses: Addresses not seen before are added.
        """
        if self.over:
            return
        seen = set(self._untried) | {a.address for a in self._attempts}
        new = [a for a in addresses if a not in seen]
        self._untried.extend(dict.fromkeys(new))
        if self._arrange is not None:
            latest = self._attempts[-1].address if self._attempts else None
            self._untried = self._arrange(latest, self._untried)
        self._next()

    def finish(self, noAddresses: Callable[[], Exception]) -> None:
        """
        No more addresses will be added.

        @param noAddresses: Builds the error to fail with if no address was
            ever added.
        """
        self._finished = True
        self._noAddresses = noAddresses
        if not self._untried:
            # Nothing is left for the attempt delay to release.
            self._cancelStagger()
        self._next()

    def fail(self, reason: Failure) -> None:
        """
        End the race with C{reason}, stopping every attempt.

        @param reason: The failure to deliver.
        """
        self._end(reason)

    def _next(self) -> None:
        while not self.over and self._untried and not self._waiting:
            self._start(self._untried.pop(0))
        if self.over or any(a.pending for a in self._attempts):
            return
        if self._finished and not self._untried:
            if not self._failures:
                assert self._noAddresses is not None
                self._end(makeFailure(self._noAddresses()))
            elif len(self._failures) == 1:
                self._end(self._failures[0][1])
            else:
                self._end(
                    makeFailure(
                        ConnectAttemptsError(self._host, self._port, self._failures)
                    )
                )

    def _start(self, address: IPAddress) -> None:
        attempt = _Attempt(self, address)
        self._attempts.append(attempt)
        self._cancelStagger()
        if self._delay:
            if self._untried or not self._finished:
                self._stagger = self._reactor.callLater(self._delay, self._staggered)
        self._waiting = True
        try:
            attempt.connector = self._reactor.connectTCP(
                address.host,
                address.port,
                cast(ClientFactory, attempt),
                timeout=self._timeout,
                bindAddress=self._bindAddress(address),
            )
        except BaseException:
            self._failed(attempt, makeFailure())

    def _staggered(self) -> None:
        self._stagger = None
        self._waiting = False
        self._next()

    def _cancelStagger(self) -> None:
        if self._stagger is not None:
            self._stagger.cancel()
            self._stagger = None

    def _failed(self, attempt: _Attempt, reason: Failure) -> None:
        if not attempt.pending or self.over:
            return
        attempt.pending = False
        self._failures.append((attempt.address, reason))
        if attempt is self._attempts[-1]:
            # RFC 8305 section 5: move on at once when the latest fails.
            self._cancelStagger()
            self._waiting = False
        self._next()

    def _won(self, attempt: _Attempt, proto: _AttemptProtocol) -> None:
        transport = proto.transport
        if self.over or not attempt.pending:
            abort = getattr(transport, "abortConnection", None)
            (abort or transport.loseConnection)()  # type: ignore[union-attr]
            return
        attempt.pending = False
        attempt.won = True
        self._factory.doStart()
        try:
            wrapped = self._factory.buildProtocol(
                proto._address or transport.getPeer()  # type: ignore[union-attr]
            )
            if wrapped is None:
                raise NoProtocol()
        except BaseException:
            reason = makeFailure()
            transport.loseConnection()  # type: ignore[union-attr]
            self._end(reason)
            return
        for iface in (
            IHalfCloseableProtocol,
            IFileDescriptorReceiver,
            IHandshakeListener,
        ):
            if iface.providedBy(wrapped):
                # alsoProvides: directlyProvides would keep only the last.
                alsoProvides(proto, iface)
        proto.wrapped = wrapped
        standIn = type(proto).__name__
        logstr = getattr(transport, "logstr", None)
        if isinstance(logstr, str) and logstr.startswith(standIn):
            # Twisted's TCP transport took its log prefix from the stand-in
            # before it had a protocol to name; name the user's, as
            # Twisted's own endpoints do.
            suffix = logstr[len(standIn) :]
            transport.logstr = proto.logPrefix() + suffix  # type: ignore[union-attr]
        self._end(None)
        try:
            wrapped.makeConnection(transport)  # type: ignore[arg-type]
        except BaseException:
            # The deadline is gone, so without this the Deferred would never
            # fire; re-raised for the transport to log it and disconnect, as
            # it does for any protocol.
            self.deferred.errback()
            raise
        self.deferred.callback(wrapped)

    def _expire(self) -> None:
        self._deadline = None
        self._end(
            makeFailure(
                _TimeoutError(
                    string=(
                        f"connecting to {self._host} port {self._port} took "
                        f"longer than {self._timeout:g} seconds"
                    )
                )
            )
        )

    def _cancel(self, deferred: Deferred[IProtocol]) -> None:
        self._end(makeFailure(_CancelledError(self._cancelAddress)))

    def _end(self, result: Failure | None) -> None:
        """
        Stop everything still running; then deliver C{result}, unless it is
        L{None} (the winner delivers its protocol itself).
        """
        if self.over:
            return
        self.over = True
        self._cancelStagger()
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None
        for attempt in self._attempts:
            if attempt.pending:
                attempt.stop()
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in cleanups:
            cleanup()
        if result is not None:
            self.deferred.errback(result)
