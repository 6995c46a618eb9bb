"""
The order in which a Happy Eyeballs race tries its addresses (RFC 8305
section 4): the families interleaved, the first family given a count of
addresses before the other family's first.

It may import only L{txendpoints._net} and Twisted.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._net import IPAddress


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
