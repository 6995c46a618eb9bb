"""
What C{tx-host} adds to a race beyond resolving both families: the order
of its addresses (RFC 6724, then the families interleaved), when an answer
waits for the other family's, and IPv6 addresses synthesized for NAT64
(RFC 8305 section 7).

It may import the rest of L{txendpoints._client} below the endpoints,
L{txendpoints._net} and Twisted.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred

from .._net import IPAddress
from ._nat64 import discoverPrefixes, needsNAT64, synthesized
from ._order import AttemptOrder
from ._race import StaggeredAttempts
from ._sorting import ISourceAddresses, outranked, sourcesOf


class HappyEyeballs:
    """
    The Happy Eyeballs policy of one connect.
    """

    def __init__(
        self,
        reactor: Any,
        families: tuple[int, ...],
        preferIPv6: bool,
        familyCount: int,
    ) -> None:
        """
        @param reactor: The reactor that connects; it says where source
            addresses come from (L{sourcesOf}) and resolves the NAT64
            prefix.
        @param families: The families that may be tried, preferred first.
        @param preferIPv6: See L{sortDestinations
            <txendpoints._client._sorting.sortDestinations>}.
        @param familyCount: The First Address Family Count.
        """
        self._reactor = reactor
        self._families = families
        self._preferIPv6 = preferIPv6
        self._familyCount = familyCount
        #: Where source addresses come from, or L{None} if unknown.
        self.sources: ISourceAddresses | None = sourcesOf(reactor)

    def order(self) -> AttemptOrder:
        """
        @return: The race's C{arrange}.
        """
        return AttemptOrder(self.sources, self._preferIPv6, self._familyCount)

    def outranked(self, addresses: list[IPAddress]) -> bool:
        """
        See L{txendpoints._client._sorting.outranked}.
        """
        return outranked(addresses, self.sources, self._preferIPv6)

    def nat64(self, addresses: list[IPAddress]) -> Deferred[list[IPAddress]] | None:
        """
        IPv6 addresses for IPv4 ones that only NAT64 can reach.

        @param addresses: Every address the name has (or a literal).
        @return: L{None} if they need none; else a L{Deferred} firing with
            the synthesized addresses (none if the network has no NAT64
            prefix).
        """
        if 6 not in self._families or not needsNAT64(addresses, self.sources):
            return None
        return discoverPrefixes(self._reactor).addCallback(
            lambda prefixes: synthesized(addresses, prefixes)
        )

    def mayNeedNAT64(self, host: str) -> bool:
        """
        Whether an address literal might be reachable only through NAT64:
        an IPv4 literal off loopback, with a kernel to ask.  Decided without
        a call, for the connect-rate path (issue 19).

        @param host: An IPv4 or IPv6 address literal.
        """
        return not (":" in host or host.startswith("127.") or self.sources is None)

    def literal(
        self, race: StaggeredAttempts, host: str, port: int, noAddress: Any
    ) -> bool:
        """
        Race an IPv4 literal through NAT64 too, if only NAT64 can reach it.

        @return: Whether it did; if not, the literal is raced as usual.
        """
        if not self.mayNeedNAT64(host):
            return False
        address: list[IPAddress] = [IPv4Address("TCP", host, port)]
        more = self.nat64(address)
        if more is None:
            return False
        # The prefix lookup may take time, which the deadline covers.
        race.keepDeadline()
        more.addCallback(lambda extra: race.finish(noAddress, address + extra))
        return True
