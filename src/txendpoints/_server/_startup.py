"""
Resolving a listener's host name before the reactor runs.

twistd, twist and C{strports.service} listen inside
C{privilegedStartService}, before the reactor runs, and exit non-zero only
if that listen fails there and then, as Twisted's C{tcp:} does: it calls
C{getaddrinfo} in the calling thread, inside C{bind}.  Twisted's default
C{reactor.nameResolver}, C{GAIResolver}, calls the same C{getaddrinfo} but
in the reactor's thread pool, which starts only once the reactor runs, so
its answer cannot arrive in time.  Before the reactor runs nothing else can
run either, so we do what Twisted's C{tcp:} does: ask that resolver's own
C{getaddrinfo} in the calling thread.  Any other resolver is asked as
usual; one that answers at once gives a failure in time as well.

It may import L{txendpoints._resolver}, L{txendpoints._net} and
L{txendpoints._errors}.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address

from .._net import IPAddress
from .._resolver import isDefaultResolver

_FAMILIES: dict[tuple[int, ...], int] = {(4,): socket.AF_INET, (6,): socket.AF_INET6}


def resolveBeforeRunning(
    reactor: Any, host: str, port: int, families: Sequence[int]
) -> list[IPAddress] | None:
    """
    Resolve C{host} at once, if the reactor is not running yet and its
    C{nameResolver} is Twisted's default C{GAIResolver}.

    @param reactor: The reactor whose C{nameResolver} would be asked.
    @param host: The host name.
    @param port: The port number the addresses should carry.
    @param families: The families wanted: C{(4,)}, C{(6,)} or both.
    @return: The addresses of the wanted families in resolver order,
        without duplicates (possibly empty, as C{GAIResolver} gives for a
        name that does not resolve), or L{None} if the name is to be
        resolved through C{reactor.nameResolver} as usual.
    """
    if getattr(reactor, "running", True):
        return None
    resolver = getattr(reactor, "nameResolver", None)
    getaddrinfo: Callable[..., list[tuple[Any, ...]]] | None = getattr(
        resolver, "_getaddrinfo", None
    )
    if not isDefaultResolver(resolver) or getaddrinfo is None:
        return None
    family = _FAMILIES.get(tuple(families), socket.AF_UNSPEC)
    try:
        answers = getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except socket.gaierror:
        answers = []
    addresses: list[IPAddress] = []
    for answerFamily, _, _, _, sockaddr in answers:
        address: IPAddress
        if answerFamily == socket.AF_INET and 4 in families:
            address = IPv4Address("TCP", *sockaddr)
        elif answerFamily == socket.AF_INET6 and 6 in families:
            address = IPv6Address("TCP", *sockaddr)
        else:
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses
