"""
The order in which a Happy Eyeballs race tries its addresses (RFC 8305
section 4): sorted by RFC 6724, then the families interleaved, the first
family given a count of addresses before the other family's first.

It may import L{txendpoints._client._sorting}, L{txendpoints._net},
Twisted and zope.interface.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.address import IPv4Address, IPv6Address
from zope.interface import implementer

from .._net import IPAddress
from ._sorting import ISourceAddresses, sortDestinations


def interleave(
    addresses: Sequence[IPAddress], first: type[IPAddress], familyCount: int = 1
) -> list[IPAddress]:
    """
    Alternate the families, keeping each family's own order (RFC 8305
    section 4).

    @param addresses: Addresses of either family, in the order to keep
        within each family.
    @param first: The family to start with.
    @param familyCount: How many addresses of C{first} go before the first
        address of the other family (the First Address Family Count); after
        them the families alternate one by one.
    @return: The addresses interleaved, C{first} family first.
    """
    ours = [a for a in addresses if isinstance(a, first)]
    theirs = [a for a in addresses if not isinstance(a, first)]
    lead = max(familyCount, 1) - 1
    result: list[IPAddress] = ours[:lead]
    ours = ours[lead:]
    for i in range(max(len(ours), len(theirs))):
        result.extend(ours[i : i + 1])
        result.extend(theirs[i : i + 1])
    return result


class AttemptOrder:
    """
    The order of one race's untried addresses, worked out again whenever
    addresses arrive: sorted by RFC 6724 (RFC 8305 section 4's MUST), so
    that sorting decides which family starts, then interleaved from there
    with the first family's count.  Addresses that arrive mid-race are
    sorted into the untried ones, not appended.  Each destination's source
    is looked up once per race.
    """

    def __init__(
        self, sources: ISourceAddresses | None, preferIPv6: bool, familyCount: int
    ) -> None:
        """
        @param sources: The source-address lookup, or L{None} if unknown.
        @param preferIPv6: See L{sortDestinations}.
        @param familyCount: The First Address Family Count.
        """
        self._sources = None if sources is None else _Remembered(sources)
        self._preferIPv6 = preferIPv6
        self._familyCount = familyCount

    def __call__(
        self, tried: Sequence[IPAddress], untried: Sequence[IPAddress]
    ) -> list[IPAddress]:
        """
        @param tried: The addresses already tried, in order.
        @param untried: The addresses left, in the order they came.
        @return: C{untried} in the order to try them.
        """
        ordered = sortDestinations(untried, self._sources, self._preferIPv6)
        if not ordered:
            return ordered
        if not tried:
            return interleave(ordered, type(ordered[0]), self._familyCount)
        first = type(tried[0])
        lead = next(
            (i for i, a in enumerate(tried) if not isinstance(a, first)), len(tried)
        )
        if lead == len(tried) and lead < self._familyCount:
            # Still within the first family's count.
            return interleave(ordered, first, self._familyCount - lead)
        other = IPv4Address if isinstance(tried[-1], IPv6Address) else IPv6Address
        return interleave(ordered, other)


@implementer(ISourceAddresses)
class _Remembered:
    """
    A source-address lookup that asks once per destination.
    """

    def __init__(self, sources: ISourceAddresses) -> None:
        self._sources = sources
        self._known: dict[str, str | None] = {}

    def sourceFor(self, destination: str) -> str | None:
        if destination not in self._known:
            self._known[destination] = self._sources.sourceFor(destination)
        return self._known[destination]
