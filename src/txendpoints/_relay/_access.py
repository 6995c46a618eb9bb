"""
Who may use a relay: C{--allow} and C{--deny} rules on the accepted
client's address, and the source address that C{--max-per-source} counts.

An IPv4 client that reaches an IPv6 socket shows up as C{::ffff:a.b.c.d};
it is matched, and counted, as the IPv4 address it is, so that one rule
covers it however the listener was opened.

It may import only attrs, Twisted and the standard library.
"""

from __future__ import annotations

import ipaddress
from typing import TypeAlias

from attrs import frozen
from twisted.internet.address import IPv4Address, IPv6Address

Network: TypeAlias = "ipaddress.IPv4Network | ipaddress.IPv6Network"
Address: TypeAlias = "ipaddress.IPv4Address | ipaddress.IPv6Address"

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def sourceAddress(address: object) -> Address | None:
    """
    The IP address of a peer, an IPv4-mapped IPv6 one as IPv4.

    @param address: The peer's address, as a transport gives it.
    @return: Its IP address without a zone, or L{None} if it is not an IP
        peer (standard I/O, a UNIX socket).
    """
    if not isinstance(address, (IPv4Address, IPv6Address)):
        return None
    try:
        ip = ipaddress.ip_address(address.host.partition("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@frozen
class Rule:
    """
    One C{--allow} or C{--deny} rule.

    @ivar allow: Whether a match is let in.
    @ivar network: The addresses it matches.
    """

    allow: bool
    network: Network

    def __str__(self) -> str:
        return f"--{'allow' if self.allow else 'deny'} {self.network}"


def parseRule(allow: bool, text: str) -> Rule:
    """
    Parse the value of an C{--allow} or C{--deny} option.

    @param allow: Whether it is C{--allow}.
    @param text: An address or a CIDR network (C{10.0.0.0/8}, C{::1},
        C{2001:db8::/32}); host bits are dropped, and an IPv4-mapped IPv6
        network becomes the IPv4 network it maps.
    @return: The rule.
    @raise ValueError: If C{text} is neither.
    """
    option = "--allow" if allow else "--deny"
    try:
        network: Network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{option} {text!r} is not an IP address or network "
            "(such as 192.0.2.0/24 or 2001:db8::/32)"
        ) from None
    if (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= 96
        and network.subnet_of(_MAPPED)
    ):
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return Rule(allow, network)


@frozen
class AccessPolicy:
    """
    The C{--allow} and C{--deny} rules, in the order given: the first that
    matches decides.  A client that matches none is let in unless some
    rule is an C{--allow}, as with nginx's and Apache's rules.

    @ivar rules: The rules, first first.
    """

    rules: tuple[Rule, ...] = ()

    def refusal(self, address: object) -> str | None:
        """
        Whether a client may connect.

        @param address: The client's address, as a transport gives it.
        @return: L{None} if it may, else what refused it, for the log: the
            rule, or why no rule let it in.
        """
        if not self.rules:
            return None
        ip = sourceAddress(address)
        if ip is not None:
            for rule in self.rules:
                if ip.version == rule.network.version and ip in rule.network:
                    return None if rule.allow else str(rule)
        if any(rule.allow for rule in self.rules):
            if ip is None:
                # Fail closed: an allow list names who may connect, and a
                # peer without an IP address is none of them.
                return "no --allow rule matches a peer without an IP address"
            return "no --allow rule matches"
        return None
