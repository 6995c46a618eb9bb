"""
Listening on one address.

It goes through C{reactor.listenTCP}, unless it needs a socket option that
Twisted cannot set (C{IPV6_V6ONLY}, C{SO_REUSEPORT}) or a scoped IPv6
literal; then we create, configure, bind and listen on the socket ourselves
and hand it to C{reactor.adoptStreamPort}.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorSocket,
)
from twisted.internet.protocol import ServerFactory

from .._errors import cannotListen

#: Looked up once so that tests can pretend the platform lacks them.
_SO_REUSEPORT: int | None = getattr(socket, "SO_REUSEPORT", None)
_IPV6_V6ONLY: int | None = getattr(socket, "IPV6_V6ONLY", None)

#: C{socket.socket}, or a stand-in in unit tests that must not open sockets.
SocketMaker = Callable[[int, int], socket.socket]


@dataclass(frozen=True)
class ListenAddress:
    """
    One address to listen on.

    @ivar host: The address literal as C{listenTCP} takes it (C{""} is the
        IPv4 wildcard); an IPv6 literal may carry a C{%zone}.
    @ivar family: C{4} or C{6}.
    @ivar ipv6Only: The C{IPV6_V6ONLY} value to set, or L{None} for the
        system default.  Ignored for IPv4.
    @ivar optional: Whether to skip this address, rather than fail, when the
        host does not support its family at all.
    """

    host: str
    family: int
    ipv6Only: bool | None = None
    optional: bool = False


def _sockaddr(address: ListenAddress, port: int) -> tuple[Any, ...]:
    if address.family == 4:
        return (address.host or "0.0.0.0", port)
    host, _, zone = address.host.partition("%")
    scope = 0
    # isdigit() alone accepts "²", which int() rejects.
    if zone.isascii() and zone.isdigit():
        scope = int(zone)
    elif zone:
        try:
            scope = socket.if_nametoindex(zone)
        except (OSError, ValueError):
            # ValueError: a name with a NUL byte.
            raise cannotListen(
                address.host,
                port,
                f"zone {zone!r} is not a network interface on this host",
            ) from None
    return (host, port, 0, scope)


def _whyAdopt(address: ListenAddress, reusePort: bool) -> str:
    reasons = []
    if address.family == 6 and address.ipv6Only is not None:
        reasons.append(f"ipv6Only={'yes' if address.ipv6Only else 'no'}")
    if reusePort:
        reasons.append("reusePort=yes")
    if "%" in address.host:
        reasons.append(f"the zone of {address.host}")
    return " and ".join(reasons)


def _socketOptions(
    address: ListenAddress, port: int, reusePort: bool
) -> list[tuple[int, int, int]]:
    options = []
    if os.name == "posix":
        # As Twisted's listenTCP: a restarted server need not wait out
        # TIME_WAIT connections of its predecessor.
        options.append((socket.SOL_SOCKET, socket.SO_REUSEADDR, 1))
    if address.family == 6 and address.ipv6Only is not None:
        if _IPV6_V6ONLY is None:
            raise cannotListen(
                address.host, port, "ipv6Only is not supported on this platform"
            )
        options.append((socket.IPPROTO_IPV6, _IPV6_V6ONLY, int(address.ipv6Only)))
    if reusePort:
        if _SO_REUSEPORT is None:
            raise cannotListen(
                address.host, port, "reusePort is not supported on this platform"
            )
        options.append((socket.SOL_SOCKET, _SO_REUSEPORT, 1))
    return options


def _adopt(
    reactor: Any,
    address: ListenAddress,
    port: int,
    factory: IProtocolFactory,
    backlog: int,
    reusePort: bool,
    makeSocket: SocketMaker,
) -> IListeningPort:
    if not IReactorSocket.providedBy(reactor):
        raise cannotListen(
            address.host,
            port,
            f"{_whyAdopt(address, reusePort)} needs a reactor that can adopt "
            f"sockets (IReactorSocket), and {type(reactor).__name__} cannot",
        )
    options = _socketOptions(address, port, reusePort)
    sockaddr = _sockaddr(address, port)
    family = socket.AF_INET6 if address.family == 6 else socket.AF_INET
    try:
        sock = makeSocket(family, socket.SOCK_STREAM)
    except OSError as e:
        raise cannotListen(address.host, port, e) from None
    try:
        for option in options:
            sock.setsockopt(*option)
        sock.setblocking(False)
        sock.bind(sockaddr)
        sock.listen(backlog)
        # The reactor takes a duplicate of the descriptor; ours is closed below.
        return reactor.adoptStreamPort(
            sock.fileno(), family, cast(ServerFactory, factory)
        )
    except OSError as e:
        raise cannotListen(address.host, port, e) from None
    finally:
        sock.close()


def needsOwnSocket(address: ListenAddress, reusePort: bool) -> bool:
    """
    @return: Whether listening on C{address} needs a socket of our own,
        because C{listenTCP} cannot set what it asks for.
    """
    return (
        reusePort
        or "%" in address.host
        or (address.family == 6 and address.ipv6Only is not None)
    )


def listenOn(
    reactor: Any,
    address: ListenAddress,
    port: int,
    factory: IProtocolFactory,
    backlog: int,
    reusePort: bool = False,
    makeSocket: SocketMaker = socket.socket,
) -> IListeningPort:
    """
    Listen on one address.

    @param reactor: An L{IReactorTCP<twisted.internet.interfaces.IReactorTCP>};
        also an L{IReactorSocket<twisted.internet.interfaces.IReactorSocket>} if the
        address needs a socket of our own.
    @param address: Where to listen.
    @param port: The port number; C{0} lets the kernel pick one.
    @param factory: The factory for accepted connections.
    @param backlog: The size of the listen queue.
    @param reusePort: Whether to set C{SO_REUSEPORT}.
    @param makeSocket: Creates the socket when we create it ourselves.
    @return: The reactor's listening port.
    @raise CannotListenError: If the address cannot be listened on; the
        error names the address and the reason.
    """
    if not needsOwnSocket(address, reusePort):
        return cast(
            IListeningPort,
            reactor.listenTCP(
                port,
                # listenTCP is annotated with ServerFactory; any factory works.
                cast(ServerFactory, factory),
                backlog=backlog,
                interface=address.host,
            ),
        )
    return _adopt(reactor, address, port, factory, backlog, reusePort, makeSocket)
