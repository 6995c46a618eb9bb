"""
Destination address selection (RFC 6724 section 6), which RFC 8305
section 4 says a Happy Eyeballs client MUST apply before interleaving.

The rules that need to know the source address the system would use for a
destination ask an L{ISourceAddresses}: by default the kernel, through a
connected UDP socket (which sends nothing); L{txendpoints.testing} has a
fixed table, so that simulated races give the same order on every machine.

Implemented: rule 1 (avoid unusable destinations), 2 (matching scope),
5 (matching label), 6 (higher precedence), 8 (smaller scope), 9 (longest
matching prefix, for IPv6 only) and 10 (otherwise the resolver's order).
Rules 3, 4 and 7 need what the kernel does not tell an application (a
source's deprecation, home-address and tunnel status) and are skipped.

It may import only L{txendpoints._net}, Twisted, zope.interface and the
standard library.
"""

from __future__ import annotations

import ipaddress
import socket
import weakref
from collections.abc import Callable, Sequence
from functools import cmp_to_key
from typing import Any, Final

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.base import ReactorBase
from zope.interface import Interface, implementer

from .._net import IPAddress, scopedHost

#: Addresses are compared as 128-bit integers, IPv4 as IPv4-mapped IPv6:
#: a tenth of the time ipaddress's objects take, for work done on every
#: connect.
_IP = int
_MAPPED = 0xFFFF << 32


class ISourceAddresses(Interface):
    """
    Which source address the system would use to reach a destination; a
    reactor that provides it (L{txendpoints.testing.SimulatedNetwork}) is
    asked instead of the kernel.
    """

    def sourceFor(destination: str) -> str | None:
        """
        @param destination: An address literal (an IPv6 one may carry a
            zone).
        @return: The source address literal, or L{None} if there is none:
            the destination is unreachable.
        """


@implementer(ISourceAddresses)
class KernelSourceAddresses:
    """
    Ask the kernel: C{connect} a UDP socket to the destination (which only
    chooses a route and a source, sending nothing) and read its name.

    A probe costs four system calls (some 17 microseconds), so with a clock
    each answer is remembered for a second of it: routes change far less
    often than a busy client connects.
    """

    #: Answers remembered at most, so that many destinations cannot grow
    #: the memory without bound.
    LIMIT = 4096

    def __init__(self, clock: Any = None, ttl: float = 1.0) -> None:
        """
        @param clock: An L{IReactorTime<twisted.internet.interfaces.IReactorTime>}
            to time remembered answers by, or L{None} to remember none.
        @param ttl: Seconds an answer is remembered.
        """
        self._clock = clock
        self._ttl = ttl
        self._known: dict[str, tuple[float, str | None]] = {}

    def sourceFor(self, destination: str) -> str | None:
        """
        See L{ISourceAddresses.sourceFor}.
        """
        now = 0.0
        if self._clock is not None:
            now = self._clock.seconds()
            known = self._known.get(destination)
            if known is not None and now - known[0] < self._ttl:
                return known[1]
        source = self._probe(destination)
        if self._clock is not None:
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[destination] = (now, source)
        return source

    @staticmethod
    def _probe(destination: str) -> str | None:
        family = socket.AF_INET6 if ":" in destination else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                # Port 9 (discard): any port does, and nothing is sent.
                probe.connect((destination, 9))
                source: str = probe.getsockname()[0]
        except OSError:
            return None
        return source


#: Each real reactor's kernel lookup, remembering answers on its clock.
_kernels: weakref.WeakKeyDictionary[Any, KernelSourceAddresses] = (
    weakref.WeakKeyDictionary()
)


def sourcesOf(reactor: Any) -> ISourceAddresses | None:
    """
    The source-address lookup for C{reactor}'s connections.

    @param reactor: The reactor that will connect.
    @return: The reactor itself if it provides L{ISourceAddresses}; the
        kernel's for a real reactor; L{None} (sources unknown, so the rules
        that need them are skipped) for a fake one such as
        L{MemoryReactor<twisted.internet.testing.MemoryReactor>}, whose
        connections the kernel knows nothing of.
    """
    if ISourceAddresses.providedBy(reactor):
        return ISourceAddresses(reactor)
    if isinstance(reactor, ReactorBase):
        kernel = _kernels.get(reactor)
        if kernel is None:
            kernel = _kernels[reactor] = KernelSourceAddresses(reactor)
        return kernel
    return None


#: RFC 6724 section 2.1: prefix, precedence, label.
DEFAULT_POLICY: Final = (
    ("::1/128", 50, 0),
    ("::/0", 40, 1),
    ("::ffff:0:0/96", 35, 4),
    ("2002::/16", 30, 2),
    ("2001::/32", 5, 5),
    ("fc00::/7", 3, 13),
    ("::/96", 1, 3),
    ("fec0::/10", 1, 11),
    ("3ffe::/16", 1, 12),
)

#: RFC 6724 section 10.3: the table that prefers IPv4 over IPv6.
PREFER_IPV4_POLICY: Final = tuple(
    (prefix, 100 if prefix == "::ffff:0:0/96" else precedence, label)
    for prefix, precedence, label in DEFAULT_POLICY
)

#: (bits to shift away, what remains of the prefix, precedence, label).
_Policy = tuple[tuple[int, int, int, int], ...]


def _compile(table: Sequence[tuple[str, int, int]]) -> _Policy:
    rows = []
    for prefix, precedence, label in table:
        network = ipaddress.IPv6Network(prefix)
        shift = 128 - network.prefixlen
        rows.append((shift, int(network.network_address) >> shift, precedence, label))
    # Longest prefix first, so the first match is the most specific.
    rows.sort(key=lambda row: row[0])
    return tuple(rows)


_POLICIES: dict[bool, _Policy] = {
    True: _compile(DEFAULT_POLICY),
    False: _compile(PREFER_IPV4_POLICY),
}

#: RFC 6724 section 3.1 scope values.
LINK_LOCAL, SITE_LOCAL, GLOBAL = 0x2, 0x5, 0xE

#: What each rule prefers, for people reading an explanation.
RULES: Final[dict[int, str]] = {
    1: "avoid unusable destinations",
    2: "prefer matching scope",
    5: "prefer matching label",
    6: "prefer higher precedence",
    8: "prefer smaller scope",
    9: "use longest matching prefix",
    10: "otherwise keep the resolver's order",
}


def _mapped(literal: str) -> _IP:
    """
    An address as RFC 6724 classifies it: IPv4 as IPv4-mapped IPv6.
    """
    host = literal.split("%", 1)[0]
    if ":" in host:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, host), "big")
    return _MAPPED | int.from_bytes(socket.inet_pton(socket.AF_INET, host), "big")


def _isV4(address: _IP) -> bool:
    return address >> 32 == 0xFFFF


def scopeOf(address: _IP) -> int:
    """
    The scope of an address (RFC 6724 section 3.1; IPv4 as section 3.2
    says: loopback and auto-configured addresses are link-local, every
    other one, private ones included, is global).

    @param address: An address as an integer, IPv4 as IPv4-mapped.
    """
    if _isV4(address):
        v4 = address & 0xFFFFFFFF
        if v4 >> 24 == 127 or v4 >> 16 == 0xA9FE:
            return LINK_LOCAL
        return GLOBAL
    if address >> 120 == 0xFF:
        # Multicast: the scope is in the address.
        return (address >> 112) & 0x0F
    if address == 1 or address >> 118 == 0x3FA:
        return LINK_LOCAL
    if address >> 118 == 0x3FB:
        return SITE_LOCAL
    return GLOBAL


def _policy(address: _IP, policy: _Policy) -> tuple[int, int]:
    for shift, prefix, precedence, label in policy:
        if address >> shift == prefix:
            return precedence, label
    return 1, 0


def commonPrefixLength(a: _IP, b: _IP) -> int:
    """
    The common prefix of two IPv6 addresses, up to the 64 bits of a
    source's prefix (RFC 6724 section 2.2).
    """
    same = (a ^ b) >> 64
    return 64 - same.bit_length()


class _Facts:
    """
    What the rules look at for one destination.
    """

    def __init__(
        self, address: IPAddress, sources: ISourceAddresses | None, policy: _Policy
    ) -> None:
        self.address = address
        self.ip = _mapped(address.host)
        self.scope = scopeOf(self.ip)
        self.precedence, self.label = _policy(self.ip, policy)
        self.known = sources is not None
        self.source: _IP | None = None
        if sources is not None:
            literal = sources.sourceFor(scopedHost(address))
            if literal is not None:
                self.source = _mapped(literal)


def _compare(a: _Facts, b: _Facts, preferIPv6: bool) -> tuple[int, int]:
    """
    @return: C{(order, rule)}: order is negative if C{a} goes first,
        positive if C{b} does, and the rule that decided.
    """
    if a.known:
        if (a.source is None) != (b.source is None):
            return (1 if a.source is None else -1), 1
        if a.source is not None and b.source is not None:
            aMatch = a.scope == scopeOf(a.source)
            bMatch = b.scope == scopeOf(b.source)
            if aMatch != bMatch:
                return (-1 if aMatch else 1), 2
            aMatch = a.label == _policy(a.source, _POLICIES[True])[1]
            bMatch = b.label == _policy(b.source, _POLICIES[True])[1]
            if aMatch != bMatch:
                return (-1 if aMatch else 1), 5
    if a.precedence != b.precedence:
        return (-1 if a.precedence > b.precedence else 1), 6
    if a.scope != b.scope:
        return (-1 if a.scope < b.scope else 1), 8
    if (
        a.source is not None
        and b.source is not None
        and not _isV4(a.ip)
        and not _isV4(b.ip)
    ):
        # Go's net package limits this rule to IPv6 too: applied to IPv4,
        # a source in 10/8 would favour 10/8-like destinations and undo
        # DNS round robin (golang/go#13283, #18518).
        aLength = commonPrefixLength(a.source, a.ip)
        bLength = commonPrefixLength(b.source, b.ip)
        if aLength != bLength:
            return (-1 if aLength > bLength else 1), 9
    aV6 = not _isV4(a.ip)
    bV6 = not _isV4(b.ip)
    if aV6 != bV6:
        # A tie between the families: the preferred one goes first.
        return (-1 if aV6 == preferIPv6 else 1), 10
    return 0, 10


def sortDestinations(
    addresses: Sequence[IPAddress],
    sources: ISourceAddresses | None,
    preferIPv6: bool = True,
) -> list[IPAddress]:
    """
    Sort destinations by RFC 6724 section 6.

    @param addresses: The destinations, in the resolver's order.
    @param sources: Where to learn each destination's source address;
        L{None} skips the rules that need it (1, 2, 5 and 9).
    @param preferIPv6: L{False} sorts with RFC 6724 section 10.3's policy
        table, which puts IPv4 above IPv6; either way, when the rules leave
        an IPv6 and an IPv4 address tied, the preferred family goes first.
    @return: The destinations in the order to try them.
    """
    if len(addresses) < 2:
        # Nothing to sort, and no source to ask for.
        return list(addresses)
    return [f.address for f in _sortFacts(addresses, sources, preferIPv6)]


def _sortFacts(
    addresses: Sequence[IPAddress], sources: ISourceAddresses | None, preferIPv6: bool
) -> list[_Facts]:
    policy = _POLICIES[preferIPv6]
    facts = [_Facts(a, sources, policy) for a in addresses]
    key: Callable[[_Facts], Any] = cmp_to_key(
        lambda a, b: _compare(a, b, preferIPv6)[0]
    )
    # sort is stable: rule 10 keeps the resolver's order for a tie.
    return sorted(facts, key=key)


#: A typical global address of each family, for L{outranked}: what an
#: address of that family the resolver has not given yet would look like.
_STAND_INS: Final[dict[bool, IPAddress]] = {
    False: IPv4Address("TCP", "192.0.2.1", 0),
    True: IPv6Address("TCP", "2001:db8::1", 0),
}


def outranked(
    addresses: Sequence[IPAddress],
    sources: ISourceAddresses | None,
    preferIPv6: bool = True,
) -> bool:
    """
    Whether every one of C{addresses} (of one family) would sort after a
    typical global address of the other family: unreachable, or a 6to4,
    Teredo, ULA or IPv4-compatible address, say.  Happy Eyeballs then
    waits for the other family's answer as it waits for the preferred one.

    @param addresses: Addresses of one family.
    @param sources: The source-address lookup, or L{None} if unknown.
    @param preferIPv6: See L{sortDestinations}.
    """
    if not addresses:
        return False
    policy = _POLICIES[preferIPv6]
    isV6 = isinstance(addresses[0], IPv6Address)
    other = _Facts(_STAND_INS[not isV6], sources, policy)
    return all(
        _compare(_Facts(a, sources, policy), other, preferIPv6)[0] > 0
        for a in addresses
    )


def explainOrder(
    addresses: Sequence[IPAddress],
    sources: ISourceAddresses | None,
    preferIPv6: bool = True,
) -> list[tuple[IPAddress, int | None]]:
    """
    Sort as L{sortDestinations} does and say which rule placed each
    address after the one before it.

    @return: C{(address, rule)} in sorted order; the first address's rule
        is L{None}.
    """
    facts = _sortFacts(addresses, sources, preferIPv6)
    result: list[tuple[IPAddress, int | None]] = []
    for i, fact in enumerate(facts):
        rule = None if i == 0 else _compare(facts[i - 1], fact, preferIPv6)[1]
        result.append((fact.address, rule))
    return result
