"""
Staggered connection attempts with RFC 8305 timing, shared by every client.

L{StaggeredAttempts} races TCP connections to a list of addresses that may
still be growing while it runs (Happy Eyeballs adds addresses as each DNS
family answers).  The next attempt starts when the latest one fails, at
once, or when the attempt delay passes without an answer, whichever comes
first (RFC 8305 section 5).  The first connection to complete wins; every
other attempt is stopped and its protocol is never built.  One deadline
covers the whole race, and cancelling the result stops everything.

It may import L{txendpoints._client._attempt}, L{txendpoints._net},
L{txendpoints._errors} and Twisted; the attempt never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred, race
from twisted.internet.error import ConnectingCancelledError, TimeoutError
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IProtocol,
    IProtocolFactory,
)
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from .._errors import ConnectAttemptsError, makeFailure
from .._net import IPAddress
from ._attempt import _Attempt

_TimeoutError: Callable[..., Exception] = TimeoutError
_CancelledError: Callable[..., Exception] = ConnectingCancelledError

#: RFC 8305 section 5: an attempt delay MUST NOT be under 10 ms and
#: SHOULD NOT be over 2 s.
MIN_ATTEMPT_DELAY = 0.01
MAX_ATTEMPT_DELAY = 2.0


_log = Logger()


def _escaped(reason: Failure) -> None:
    """
    Log what a later attempt's C{connectTCP} raised that is not an
    L{Exception}: the race has already ended with it, and nothing else is
    there to raise it to but the reactor's timer, which would log it too.
    """
    _log.failure("Interrupted while starting a connection attempt", reason)


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
        arrange: Callable[[list[IPAddress], list[IPAddress]], list[IPAddress]]
        | None = None,
        deadline: bool = True,
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
            added (once per batch); called with the addresses tried so far
            and the untried ones.  By default they are tried in the order
            added.
        @param deadline: Whether the race keeps its own deadline; L{False}
            when C{connectTCP}'s timeout covers the same span (one address,
            known at once), so the reactor needs no clock.
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
        # All of the race's state.  Every attempt started has failed (and
        # is in _failures), or won (and the race is over), or is connecting.
        self._untried: list[IPAddress] = []
        self._attempts: list[_Attempt] = []
        self._failures: list[tuple[IPAddress, Failure]] = []
        # Set by finish: no more addresses come.
        self._noAddresses: Callable[[], Exception] | None = None
        self._cleanups: list[Callable[[], object]] = []
        # Whether the first addresses (or the finish) have started the loop.
        self._started = False
        # While the loop waits: _wakeup, to fire when the attempt _wakeFor
        # fails, or, if that is None, on news (see _wake).
        self._wakeup: Deferred[None] | None = None
        self._wakeFor: _Attempt | None = None
        self.deferred: Deferred[IProtocol] = Deferred(self._cancel)
        self._deadline: IDelayedCall | None = None
        if deadline and timeout is not None:
            self._deadline = reactor.callLater(timeout, self._expire)

    def _run(self, ignored: object = None) -> None:
        """
        Start the attempts: start the next, then wait for whichever comes
        first of it failing and the attempt delay (RFC 8305 section 5), and
        with no address left to try, for more.  The race ends when an
        attempt wins, when the last attempt fails (L{_attemptFailed}), at
        the deadline, or by L{fail} or cancellation.

        A plain loop that schedules itself again, rather than
        C{inlineCallbacks}, which would turn an exception that is not an
        L{Exception} into a failure instead of letting it propagate.
        """
        while not self.over:
            if self._untried:
                attempt = self._start(self._untried.pop(0))
                if not attempt.connecting:
                    # It won or failed at once: on to the next without a
                    # delay and without recursion.
                    continue
                if self._untried or self._noAddresses is None:
                    self._sleep(attempt).addCallback(self._run).addErrback(_escaped)
                    return
            elif self._noAddresses is None:
                self._sleep(None).addCallback(self._run).addErrback(_escaped)
                return
            else:
                # Every address is started; the last failure ends the race.
                self._lostIfAllFailed()
                return

    def _start(self, address: IPAddress) -> _Attempt:
        """
        Start an attempt to C{address}.  If C{connectTCP} raises anything
        but a connection failure, that is no fault of the address: the race
        ends with it at once, and one that is not an L{Exception} (such as
        L{KeyboardInterrupt}) is raised again.
        """
        attempt = _Attempt(address, self._factory, self._attemptFailed, self._claim)
        self._attempts.append(attempt)
        try:
            attempt.connect(self._reactor, self._timeout, self._bindAddress(address))
        except Exception:
            self._end(makeFailure())
        except BaseException:
            self._end(makeFailure())
            raise
        return attempt

    def _sleep(self, attempt: _Attempt | None) -> Deferred[Any]:
        """
        @param attempt: The attempt just started, to wait for its failure or
            its attempt delay; L{None} to wait for news.
        @return: A L{Deferred} that fires when the loop should look again.
        """
        wakeup: Deferred[None] = Deferred()
        self._wakeup, self._wakeFor = wakeup, attempt
        if attempt is None or not self._delay:
            return wakeup
        # race() cancels the loser, the timer or the wakeup; a wakeup has
        # no canceller, so it fails at once, into race(), which ignores it.
        return race([wakeup, deferLater(self._reactor, self._delay)])

    def _wake(self, failed: _Attempt | None = None) -> None:
        """
        Wake the loop if it waits for C{failed} to fail, or, for L{None},
        for news; and whatever it waits for once the race is over or no
        address is left to start, when the loop has only to return (so an
        attempt delay with nothing to release leaves no timer behind).
        """
        wakeup = self._wakeup
        if wakeup is None:
            return
        if (
            self._wakeFor is failed
            or self.over
            or (self._noAddresses is not None and not self._untried)
        ):
            self._wakeup = None
            if not wakeup.called:
                wakeup.callback(None)

    def _attemptFailed(self, attempt: _Attempt, reason: Failure) -> None:
        if self.over:
            return
        self._failures.append((attempt.address, reason))
        self._wake(attempt)
        self._lostIfAllFailed()

    def _lostIfAllFailed(self) -> None:
        """
        End the race if every address has been tried and every attempt
        failed.
        """
        if self.over or self._noAddresses is None or self._untried:
            return
        if len(self._failures) < len(self._attempts):
            return
        if not self._failures:
            self._end(makeFailure(self._noAddresses()))
        elif len(self._failures) == 1:
            self._end(self._failures[0][1])
        else:
            self._end(
                makeFailure(
                    ConnectAttemptsError(self._host, self._port, self._failures)
                )
            )

    def _claim(self, attempt: _Attempt) -> Deferred[IProtocol] | None:
        """
        Let the first connection made win: end the race for it.

        @return: The L{Deferred} for the winner to fire, or L{None} if the
            race is over.
        """
        if self.over:
            return None
        self._end(None)
        return self.deferred

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
        self._offer(addresses)
        self._news()

    def finish(
        self, noAddresses: Callable[[], Exception], addresses: Sequence[IPAddress] = ()
    ) -> None:
        """
        No more addresses will be added, after C{addresses}.

        @param noAddresses: Builds the error to fail with if no address was
            ever added.
        @param addresses: The last addresses to add; given here rather than
            to L{add}, the last of them is started with no attempt delay to
            wait for, since none follows it.
        """
        if self.over:
            return
        self._noAddresses = noAddresses
        self._offer(addresses)
        self._news()

    def fail(self, reason: Failure) -> None:
        """
        End the race with C{reason}, stopping every attempt.

        @param reason: The failure to deliver.
        """
        self._end(reason)

    def keepDeadline(self) -> None:
        """
        Start the race's own deadline, from now, if it was built without
        one (for a literal) but must now wait for something else first.
        """
        if self.over or self._deadline is not None or self._timeout is None:
            return
        if getattr(self._reactor, "callLater", None) is not None:
            self._deadline = self._reactor.callLater(self._timeout, self._expire)

    def _news(self) -> None:
        """
        Start the loop on the first addresses or the finish; wake it on
        later ones.
        """
        if self._started:
            self._wake()
            return
        self._started = True
        if self._noAddresses is not None and len(self._untried) == 1:
            # A lone address needs no loop, since nothing follows it: the
            # shortest path, for a literal above all (issue 19).
            self._start(self._untried.pop())
        else:
            self._run()

    def _offer(self, addresses: Sequence[IPAddress]) -> None:
        if not addresses:
            return
        seen = set(self._untried) | {a.address for a in self._attempts}
        self._untried.extend(dict.fromkeys(a for a in addresses if a not in seen))
        if self._arrange is not None and len(self._untried) > 1:
            # One address has but one order.
            tried = [a.address for a in self._attempts]
            self._untried = self._arrange(tried, self._untried)

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
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None
        for attempt in self._attempts:
            attempt.stop()
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in cleanups:
            cleanup()
        # The loop sees the race is over and returns; race() cancels the
        # attempt delay's timer.
        self._wake()
        if result is not None:
            self.deferred.errback(result)
