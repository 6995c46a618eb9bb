"""
Reaching IPv4-only names from an IPv6-only network (RFC 8305 section 7):
find the network's NAT64 prefix as RFC 7050 says and synthesize IPv6
addresses from IPv4 ones as RFC 6052 says.

It may import L{txendpoints._client._sorting}, L{txendpoints._resolver},
L{txendpoints._net} and Twisted.
"""

from __future__ import annotations

import ipaddress
import weakref
from collections.abc import Sequence
from typing import Any, Final

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, succeed

from .._net import IPAddress
from .._resolver import resolve
from ._sorting import ISourceAddresses

#: RFC 7050 section 2: the name whose AAAA answers embed the well-known
#: IPv4 addresses, and those addresses.
DISCOVERY_NAME: Final = "ipv4only.arpa"
WELL_KNOWN: Final = frozenset(
    {ipaddress.IPv4Address("192.0.0.170"), ipaddress.IPv4Address("192.0.0.171")}
)

#: RFC 6052 section 2.2: the prefix lengths a NAT64 may use.
PREFIX_LENGTHS: Final = (96, 64, 56, 48, 40, 32)

#: A stand-in global IPv6 destination, to ask whether IPv6 has a route.
_IPV6_PROBE: Final = "64:ff9b::c000:201"


def synthesize(
    prefix: ipaddress.IPv6Network, v4: ipaddress.IPv4Address
) -> ipaddress.IPv6Address:
    """
    Embed an IPv4 address in a NAT64 prefix (RFC 6052 section 2.2): after
    the prefix, skipping bits 64 to 71, which must be zero.

    @param prefix: A prefix of one of L{PREFIX_LENGTHS}.
    @param v4: The IPv4 address.
    @return: The IPv4-embedded IPv6 address.
    """
    length = prefix.prefixlen
    v4bits = int(v4)
    if length == 96:
        return ipaddress.IPv6Address(int(prefix.network_address) | v4bits)
    before = (64 - length) // 8
    after = 4 - before
    octets = bytearray(prefix.network_address.packed)
    v4octets = v4.packed
    octets[length // 8 : 8] = v4octets[:before]
    octets[8] = 0
    octets[9 : 9 + after] = v4octets[before:]
    return ipaddress.IPv6Address(bytes(octets))


def extract(address: ipaddress.IPv6Address, length: int) -> ipaddress.IPv4Address:
    """
    The IPv4 address embedded in C{address} with a prefix of C{length}
    bits; the inverse of L{synthesize}.
    """
    octets = address.packed
    if length == 96:
        return ipaddress.IPv4Address(octets[12:])
    before = (64 - length) // 8
    return ipaddress.IPv4Address(octets[length // 8 : 8] + octets[9 : 9 + 4 - before])


def prefixesFrom(answers: Sequence[str]) -> list[ipaddress.IPv6Network]:
    """
    The NAT64 prefixes that AAAA answers for L{DISCOVERY_NAME} reveal
    (RFC 7050 section 3): each answer at each prefix length whose
    embedded address is a well-known one.

    @param answers: IPv6 address literals.
    @return: The prefixes, in answer order, without duplicates.
    """
    found: list[ipaddress.IPv6Network] = []
    for literal in answers:
        address = ipaddress.IPv6Address(literal.split("%", 1)[0])
        for length in PREFIX_LENGTHS:
            if address.packed[8] != 0 and length != 96:
                # Bits 64-71 are zero in every embedding but /96's.
                continue
            if extract(address, length) in WELL_KNOWN:
                prefix = ipaddress.IPv6Network((int(address), length), strict=False)
                if prefix not in found:
                    found.append(prefix)
                break
    return found


#: The prefixes of each reactor's network, discovered once, or the
#: Deferreds waiting for the discovery under way.
_known: weakref.WeakKeyDictionary[Any, list[ipaddress.IPv6Network]] = (
    weakref.WeakKeyDictionary()
)
_pending: weakref.WeakKeyDictionary[
    Any, list[Deferred[list[ipaddress.IPv6Network]]]
] = weakref.WeakKeyDictionary()


def discoverPrefixes(reactor: Any) -> Deferred[list[ipaddress.IPv6Network]]:
    """
    The NAT64 prefixes of C{reactor}'s network, looked up through its
    C{nameResolver} the first time and remembered for the reactor's
    lifetime (none, if the lookup found none or failed).

    @return: A L{Deferred} that fires with the prefixes; at once if known.
    """
    if reactor in _known:
        return succeed(_known[reactor])
    waiting: Deferred[list[ipaddress.IPv6Network]] = Deferred()
    if reactor in _pending:
        _pending[reactor].append(waiting)
        return waiting
    _pending[reactor] = [waiting]

    def found(addresses: list[IPAddress]) -> None:
        _known[reactor] = prefixesFrom([a.host for a in addresses])
        for d in _pending.pop(reactor, []):
            d.callback(_known[reactor])

    try:
        lookup = resolve(reactor, DISCOVERY_NAME, 0, (6,))
    except Exception:
        lookup = succeed([])
    lookup.addErrback(lambda reason: [])
    lookup.addCallback(found)
    return waiting


def needsNAT64(
    addresses: Sequence[IPAddress], sources: ISourceAddresses | None
) -> bool:
    """
    Whether C{addresses} can be reached only through NAT64: they are all
    IPv4, none has a route, and IPv6 has one.

    @param addresses: What a name resolved to (or an IPv4 literal).
    @param sources: The source-address lookup; L{None} (unknown) never
        needs NAT64.
    """
    if sources is None or not addresses:
        return False
    if not all(isinstance(a, IPv4Address) for a in addresses):
        return False
    if any(a.host.startswith("127.") for a in addresses):
        # Loopback never leaves the host: no probe needed to know.
        return False
    if any(sources.sourceFor(a.host) is not None for a in addresses):
        return False
    return sources.sourceFor(_IPV6_PROBE) is not None


def synthesized(
    addresses: Sequence[IPAddress], prefixes: Sequence[ipaddress.IPv6Network]
) -> list[IPAddress]:
    """
    The IPv6 addresses to race for IPv4 C{addresses} behind C{prefixes}.
    """
    return [
        IPv6Address(
            "TCP", str(synthesize(prefix, ipaddress.IPv4Address(a.host))), a.port
        )
        for prefix in prefixes
        for a in addresses
    ]
