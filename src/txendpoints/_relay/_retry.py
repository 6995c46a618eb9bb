"""
Connecting again after a connection error, waiting twice as long after
each failure: C{--connect-retry} and C{--retry-delay}.

It may import Twisted and the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.error import ConnectError
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.python.failure import Failure

T = TypeVar("T")


def isConnectionError(reason: Failure) -> bool:
    """
    Whether a failed connect is worth trying again: a connection error
    (refused, unreachable, timed out, a failed name lookup), as opposed to,
    say, a bug or a bad certificate.

    @param reason: Why the connect failed.
    @return: Whether to retry.
    """
    return isinstance(reason.value, (ConnectError, OSError))


def retryDelays(first: float, cap: float) -> Callable[[int], float]:
    """
    The wait before each retry.

    @param first: The wait before the first retry.
    @param cap: The longest wait; C{first} if that is longer.
    @return: A function of the retry's number (1 for the first) that
        returns its wait in seconds.
    """
    cap = max(cap, first)

    def delay(retry: int) -> float:
        # Bounded exponent: 2 ** 10000 would overflow a float.
        return min(cap, first * 2.0 ** min(retry - 1, 64))

    return delay


def connectWithRetry(
    clock: IReactorTime,
    connect: Callable[[], Deferred[T]],
    retries: int | None,
    delay: Callable[[int], float],
    onRetry: Callable[[Failure, int, float], object],
) -> Deferred[T]:
    """
    Call C{connect}, and again after a connection error, up to C{retries}
    more times.

    @param clock: Where the waits are timed.
    @param connect: Makes one attempt.
    @param retries: How many retries at most; L{None} for no end.
    @param delay: The wait before each retry, by its number (see
        L{retryDelays}).
    @param onRetry: Called with the failure, the number of the retry to
        come and its wait, before each wait.
    @return: A L{Deferred} that fires with the first attempt that
        succeeds, or fails with the last failure or the first that is not a
        connection error.  Cancelling it cancels the attempt under way (and
        fails with whatever that attempt fails with) or the wait.
    """
    timer: IDelayedCall | None = None
    attempt: Deferred[T] | None = None
    tried = 0
    cancelled = False

    def cancel(result: Deferred[T]) -> None:
        nonlocal timer, cancelled
        cancelled = True
        if timer is not None:
            timer.cancel()
            timer = None
        elif attempt is not None:
            # The attempt's own failure (ConnectingCancelledError from
            # a real endpoint) becomes ours.
            attempt.cancel()

    result: Deferred[T] = Deferred(cancel)

    def start() -> None:
        nonlocal timer, attempt
        timer = None
        attempt = maybeDeferred(connect)
        attempt.addCallbacks(succeeded, failed)

    def succeeded(value: T) -> None:
        nonlocal attempt
        attempt = None
        result.callback(value)

    def failed(reason: Failure) -> None:
        nonlocal attempt, timer, tried
        attempt = None
        if cancelled:
            # A cancelled connect fails with a ConnectError of its own,
            # which is no reason to try again.
            result.errback(reason)
            return
        if not isConnectionError(reason) or (retries is not None and tried >= retries):
            result.errback(reason)
            return
        tried += 1
        wait = delay(tried)
        onRetry(reason, tried, wait)
        timer = clock.callLater(wait, start)

    start()
    return result
