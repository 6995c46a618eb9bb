"""
Name resolution for a Happy Eyeballs client, as RFC 8305 section 3 asks:
one query per family, all at once, and the preferred family's answer
awaited for the resolution delay before the other family's is used.

It feeds any L{AddressSink} (the race, in practice) and may import only
L{txendpoints._resolver}, L{txendpoints._net} and Twisted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IDelayedCall
from twisted.python.failure import Failure

from .._net import IPAddress
from .._resolver import resolve


class AddressSink(Protocol):
    """
    What the resolution feeds: L{StaggeredAttempts
    <txendpoints._client._race.StaggeredAttempts>} provides it.
    """

    @property
    def over(self) -> bool:
        """
        Whether the sink wants nothing more.
        """

    def add(self, addresses: Sequence[IPAddress]) -> None:
        """
        Take more addresses.
        """

    def finish(
        self, noAddresses: Callable[[], Exception], addresses: Sequence[IPAddress] = ()
    ) -> None:
        """
        Take the last addresses; C{noAddresses} builds the error if there
        were none at all.
        """

    def fail(self, reason: Failure) -> None:
        """
        Give up with C{reason}.
        """

    def onEnd(self, cleanup: Callable[[], object]) -> None:
        """
        Call C{cleanup} once the sink wants nothing more.
        """


def resolveHappily(
    reactor: Any,
    race: AddressSink,
    host: str,
    port: int,
    families: tuple[int, ...],
    delay: float,
    noAddress: Callable[[], Exception],
    outranked: Callable[[list[IPAddress]], bool] = lambda addresses: False,
    nat64: Callable[[list[IPAddress]], Deferred[list[IPAddress]] | None] = (
        lambda addresses: None
    ),
) -> None:
    """
    Resolve C{host} in each of C{families} at once and feed the answers to
    C{race}, the preferred (first) family first.

    @param reactor: Its C{nameResolver} resolves, its clock times the
        resolution delay.
    @param race: The race to add the addresses to; its end stops the
        queries and the timer.
    @param host: The host name.
    @param port: The port the addresses carry.
    @param families: The families to ask for, preferred first.
    @param delay: Seconds to wait for the preferred family's answer after
        the other family has answered.
    @param noAddress: Builds the error for a name with no address.
    @param outranked: Whether addresses of the preferred family would all
        sort after the other family's (RFC 6724); if so they too wait up to
        C{delay} for the other family's answer, so that sorting, not the
        order of the answers, decides which family starts.
    @param nat64: Given every address once both families have answered;
        returns L{None}, or a L{Deferred} of IPv6 addresses synthesized
        for them (RFC 8305 section 7) to add before the race's last.
    """
    _HappyResolution(
        reactor, race, host, port, families, delay, noAddress, outranked, nat64
    )


class _HappyResolution:
    """
    Resolve both families at once and release their addresses to the race
    as RFC 8305 section 3 says: the preferred family at once, the other at
    once if the preferred one has answered, else after the resolution delay.
    """

    def __init__(
        self,
        reactor: Any,
        race: AddressSink,
        host: str,
        port: int,
        families: tuple[int, ...],
        delay: float,
        noAddress: Callable[[], Exception],
        outranked: Callable[[list[IPAddress]], bool] = lambda addresses: False,
        nat64: Callable[[list[IPAddress]], Deferred[list[IPAddress]] | None] = (
            lambda addresses: None
        ),
    ) -> None:
        self._reactor = reactor
        self._outranked = outranked
        self._nat64 = nat64
        # Every address released to the race so far.
        self._seen: list[IPAddress] = []
        self._race = race
        self._delay = delay
        self._families = families
        self._noAddress = noAddress
        self._answered: set[int] = set()
        # The other family's addresses, while the preferred one is awaited.
        self._held: list[IPAddress] = []
        self._timer: IDelayedCall | None = None
        # The first query's failure, to fail with if no family answers.
        self._failure: Failure | None = None
        race.onEnd(self._stopTimer)
        for family in families:
            try:
                d = resolve(reactor, host, port, (family,))
            except Exception:
                d = fail()
            race.onEnd(d.cancel)
            d.addCallbacks(
                self._answer,
                self._noAnswer,
                callbackArgs=(family,),
                errbackArgs=(family,),
            )

    def _noAnswer(self, reason: Failure, family: int) -> None:
        # RFC 8305 section 3: a failed query is a negative answer for its
        # family; the other goes on.
        if self._failure is None:
            self._failure = reason
        self._answer([], family)

    def _answer(self, addresses: list[IPAddress], family: int) -> None:
        if self._race.over:
            return
        self._answered.add(family)
        preferred = self._families[0]
        waiting = len(self._answered) < len(self._families)
        if (
            waiting
            and self._delay > 0
            and addresses
            and (family != preferred or self._outranked(addresses))
        ):
            self._held = addresses
            self._timer = self._reactor.callLater(self._delay, self._release)
            return
        # Released together, so that the race orders both families at once.
        self._stopTimer()
        released, self._held = addresses + self._held, []
        self._seen.extend(released)
        if len(self._answered) < len(self._families):
            if released:
                self._race.add(released)
            return
        more = self._nat64(list(self._seen)) if self._seen else None
        if more is None:
            self._race.finish(self._noAddressError, released)
        else:
            more.addCallback(
                lambda synthesized: self._race.finish(
                    self._noAddressError, released + synthesized
                )
            )

    def _noAddressError(self) -> Exception:
        if self._failure is not None and isinstance(self._failure.value, Exception):
            # More telling than "no address" when the resolver said why.
            return self._failure.value
        return self._noAddress()

    def _release(self) -> None:
        self._timer = None
        released, self._held = self._held, []
        self._seen.extend(released)
        self._race.add(released)

    def _stopTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
