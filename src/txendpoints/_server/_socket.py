"""
Listening on one address.

It goes through C{reactor.listenTCP}, unless it needs a socket option that
Twisted cannot set (C{IPV6_V6ONLY}, C{SO_REUSEPORT}) or a scoped IPv6
literal; then we create, configure, bind and listen on the socket ourselves
and hand it to C{reactor.adoptStreamPort}.  Socket options
(L{TCPOptions<txendpoints.TCPOptions>}) need a socket of our own too.

It may import L{txendpoints._errors}, L{txendpoints._net},
L{txendpoints._sockopts} and L{txendpoints._server._accepted}.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorSocket,
)
from twisted.internet.protocol import ServerFactory

from .._errors import cannotListen
from .._sockopts._apply import Setting, createSocket, perConnection, socketSettings
from .._sockopts._options import NO_OPTIONS, TCPOptions
from ._accepted import ConfiguringFactory

#: Looked up once so that tests can pretend the platform lacks them.
_SO_REUSEPORT: int | None = getattr(socket, "SO_REUSEPORT", None)
_IPV6_V6ONLY: int | None = getattr(socket, "IPV6_V6ONLY", None)

#: C{socket.socket}, or a stand-in in unit tests that must not open sockets.
#: It takes socket.socket's arguments: a family, a type and perhaps a protocol.
SocketMaker = Callable[..., socket.socket]


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
    @ivar options: The socket options of the listener and of each
        connection it accepts.
    """

    host: str
    family: int
    ipv6Only: bool | None = None
    optional: bool = False
    options: TCPOptions = NO_OPTIONS


class _WildcardListenError(CannotListenError):
    """
    A L{CannotListenError} for a wildcard address whose message names the
    family, where Twisted's says C{any:80} (for C{""}) or C{:::80}.

    @ivar name: The wildcard as the message names it.
    """

    def __init__(
        self, interface: str, port: int, socketError: object, name: str
    ) -> None:
        super().__init__(interface, port, socketError)  # type: ignore[no-untyped-call]
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.interface, self.port, self.socketError, self.name))

    def __str__(self) -> str:
        return f"Couldn't listen on {self.name} port {self.port}: {self.socketError}."


def _wildcardName(address: ListenAddress) -> str | None:
    if address.family == 4:
        if address.host in ("", "0.0.0.0"):
            return "0.0.0.0 (every IPv4 interface)"
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET6, address.host)
    except (OSError, ValueError):
        return None  # Scoped: a zone is one interface, not every one.
    if packed != bytes(16):
        return None
    if address.ipv6Only is False:
        return "[::] (every IPv6 and IPv4 interface)"
    return "[::] (every IPv6 interface)"


def listenError(
    address: ListenAddress, port: int, reason: str | OSError
) -> CannotListenError:
    """
    @param address: The address that cannot be listened on.
    @param port: Its port number.
    @param reason: The OS error, or a sentence saying why.
    @return: The error to raise, naming the family of a wildcard address.
    """
    name = _wildcardName(address)
    if name is None:
        return cannotListen(address.host, port, reason)
    return _WildcardListenError(address.host, port, reason, name)


def withFamilyName(
    address: ListenAddress, error: CannotListenError
) -> CannotListenError:
    """
    @param address: The address that could not be listened on.
    @param error: The reactor's error for it.
    @return: An equivalent error whose message names the family of a
        wildcard address, or C{error} itself for any other address.
    """
    name = _wildcardName(address)
    if name is None or isinstance(error, _WildcardListenError):
        return error
    return _WildcardListenError(error.interface, error.port, error.socketError, name)


def _explained(address: ListenAddress, error: OSError) -> OSError:
    """
    @return: C{error}, or a copy that says why the kernel refused, where its
        own message (C{EINVAL}) does not.
    """
    if error.errno == errno.EINVAL and address.family == 6 and address.ipv6Only:
        host = address.host.partition("%")[0]
        if socket.inet_pton(socket.AF_INET6, host)[:12] == _MAPPED_PREFIX:
            return OSError(
                error.errno,
                f"{error.strerror}: an IPv4-mapped address cannot be listened "
                "on with IPV6_V6ONLY set (ipv6Only=yes)",
            )
    return error


#: The first 12 bytes of an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
_MAPPED_PREFIX = bytes(10) + b"\xff\xff"


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
            raise listenError(
                address,
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
    if address.options != NO_OPTIONS:
        reasons.append("socket options")
    return " and ".join(reasons)


def _socketOptions(address: ListenAddress, port: int, reusePort: bool) -> list[Setting]:
    options: list[Setting] = []
    if os.name == "posix":
        # As Twisted's listenTCP: a restarted server need not wait out
        # TIME_WAIT connections of its predecessor.
        options.append((socket.SOL_SOCKET, socket.SO_REUSEADDR, 1))
    if address.family == 6 and address.ipv6Only is not None:
        if _IPV6_V6ONLY is None:
            raise listenError(
                address, port, "ipv6Only is not supported on this platform"
            )
        options.append((socket.IPPROTO_IPV6, _IPV6_V6ONLY, int(address.ipv6Only)))
    if reusePort:
        if _SO_REUSEPORT is None:
            raise listenError(
                address, port, "reusePort is not supported on this platform"
            )
        options.append((socket.SOL_SOCKET, _SO_REUSEPORT, 1))
    options += socketSettings(address.options, "server")
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
        raise listenError(
            address,
            port,
            f"{_whyAdopt(address, reusePort)} needs a reactor that can adopt "
            f"sockets (IReactorSocket), and {type(reactor).__name__} cannot",
        )
    options = _socketOptions(address, port, reusePort)
    sockaddr = _sockaddr(address, port)
    family = socket.AF_INET6 if address.family == 6 else socket.AF_INET
    try:
        sock = createSocket(family, address.options, makeSocket)
    except OSError as e:
        raise listenError(address, port, e) from None
    accepted = perConnection(address.options)
    if accepted:
        factory = ConfiguringFactory(factory, accepted)
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
        raise listenError(address, port, _explained(address, e)) from None
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
        or address.options != NO_OPTIONS
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
        # Twisted's endpoints pass the reactor's own error through, and so
        # do ours (Twisted's tests check it is the very same object).
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
