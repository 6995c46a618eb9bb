"""
Name resolution for a Happy Eyeballs client, as RFC 8305 section 3 asks:
one query per family, all at once, and the preferred family's answer
awaited for the resolution delay before the other family's is used.

It may import L{txendpoints._client._race}, L{txendpoints._resolver} and
L{txendpoints._net}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IDelayedCall

from .._net import IPAddress
from .._resolver import resolve
from ._race import StaggeredAttempts


def resolveHappily(
    reactor: Any,
    race: StaggeredAttempts,
    host: str,
    port: int,
    families: tuple[int, ...],
    delay: float,
    noAddress: Callable[[], Exception],
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
    """
    _HappyResolution(reactor, race, host, port, families, delay, noAddress)


class _HappyResolution:
    """
    Resolve both families at once and release their addresses to the race
    as RFC 8305 section 3 says: the preferred family at once, the other at
    once if the preferred one has answered, else after the resolution delay.
    """

    def __init__(
        self,
        reactor: Any,
        race: StaggeredAttempts,
        host: str,
        port: int,
        families: tuple[int, ...],
        delay: float,
        noAddress: Callable[[], Exception],
    ) -> None:
        self._race = race
        self._delay = delay
        self._preferred = families[0]
        self._answered: dict[int, list[IPAddress]] = {}
        self._held: list[IPAddress] = []
        self._timer: IDelayedCall | None = None
        self._reactor = reactor
        self._families = families
        race.onEnd(self._stopTimer)
        for family in families:
            d = resolve(reactor, host, port, (family,))
            race.onEnd(d.cancel)
            d.addCallback(self._answer, family, noAddress)
            d.addErrback(lambda f: None if race.over else race.fail(f))

    def _answer(
        self,
        addresses: list[IPAddress],
        family: int,
        noAddress: Callable[[], Exception],
    ) -> None:
        if self._race.over:
            return
        self._answered[family] = addresses
        if family == self._preferred or self._preferred in self._answered:
            # Added in one call, so the race orders both families together.
            self._stopTimer()
            held, self._held = self._held, []
            self._race.add(addresses + held)
        elif addresses:
            self._held = addresses
            if self._delay > 0:
                self._timer = self._reactor.callLater(self._delay, self._release)
            else:
                self._release()
        if len(self._answered) == len(self._families) and not self._race.over:
            self._race.finish(noAddress)

    def _release(self) -> None:
        self._stopTimer()
        held, self._held = self._held, []
        if held:
            self._race.add(held)

    def _stopTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
