"""
The table of option specs, one per prefix and direction.

Every other part reads it: the parsers validate with it, L{describe
<txendpoints.describe>} writes endpoints back with it, and the string
reference and C{txendpoints list} are generated from it.  The machinery is
in L{txendpoints._strings._spec} (options, specs) and
L{txendpoints._strings._values} (value kinds).  It may import only those
and L{txendpoints._sockopts}, for the ranges and platforms of the socket
options.
"""

from __future__ import annotations

from typing import Any, Final

from .._sockopts import _options as _sockopts
from ._spec import REQUIRED, Direction, Option, Spec
from ._values import (
    BACKLOG,
    BOOLEAN,
    DURATION,
    FD,
    PORT,
    BindAddress,
    Device,
    Host,
    Integer,
    Seconds,
    Size,
)

#: A positive count of addresses.
FAMILY_COUNT: Final = Integer(1, None, "a count")

__all__ = [
    "HOST_CLIENT",
    "HOST_SERVER",
    "SPECS",
    "STDIO_CLIENT",
    "STDIO_SERVER",
    "TCP4_CLIENT",
    "TCP4_SERVER",
    "TCP6_CLIENT",
    "TCP6_SERVER",
]


def _on(name: str, direction: Direction = "server") -> str:
    return f" Platforms: {_sockopts.platformsOf(name, direction)[1]}."


_KEEP_SECONDS: Final = Integer(
    *_sockopts.KEEP_SECONDS, noun="a whole number of seconds"
)


def _socketOptions(direction: Direction) -> tuple[Option[Any], ...]:
    """
    The options of L{TCPOptions<txendpoints.TCPOptions>}, for every TCP
    prefix; only C{fastOpen} differs by direction.
    """
    fastOpen: Option[Any]
    if direction == "server":
        fastOpen = Option(
            "fastOpen",
            Integer(*_sockopts.FAST_OPEN_QUEUE, noun="a queue length"),
            None,
            doc="TCP Fast Open (TCP_FASTOPEN) with this many pending requests "
            "queued; clients may send data in their SYN." + _on("fastOpen"),
        )
    else:
        fastOpen = Option(
            "fastOpen",
            BOOLEAN,
            None,
            doc="TCP Fast Open (TCP_FASTOPEN_CONNECT): send the first data in "
            "the SYN to a server that has given this host a cookie."
            + _on("fastOpen", "client"),
        )
    return (
        Option(
            "noDelay",
            BOOLEAN,
            None,
            doc="TCP_NODELAY: yes sends small writes at once (Nagle's "
            "algorithm off)." + _on("noDelay"),
        ),
        Option(
            "keepAlive",
            BOOLEAN,
            None,
            doc="SO_KEEPALIVE: probe an idle connection and drop it when the "
            "peer is gone." + _on("keepAlive"),
        ),
        Option(
            "keepIdle",
            _KEEP_SECONDS,
            None,
            doc="Whole seconds idle before the first keepalive probe "
            "(TCP_KEEPIDLE; TCP_KEEPALIVE on macOS); implies keepAlive=yes."
            + _on("keepIdle"),
        ),
        Option(
            "keepInterval",
            _KEEP_SECONDS,
            None,
            doc="Whole seconds between keepalive probes (TCP_KEEPINTVL); "
            "implies keepAlive=yes." + _on("keepInterval"),
        ),
        Option(
            "keepCount",
            Integer(*_sockopts.KEEP_COUNT),
            None,
            doc="Unanswered keepalive probes before the connection is dropped "
            "(TCP_KEEPCNT); implies keepAlive=yes." + _on("keepCount"),
        ),
        Option(
            "userTimeout",
            Seconds(_sockopts.USER_TIMEOUT_MAX),
            None,
            doc="Seconds sent data may stay unacknowledged before the "
            "connection is dropped (TCP_USER_TIMEOUT, to the millisecond)."
            + _on("userTimeout"),
        ),
        Option(
            "bindDevice",
            Device(_sockopts.DEVICE_NAME_MAX),
            None,
            doc="Send and receive only through this network interface "
            "(SO_BINDTODEVICE)." + _on("bindDevice"),
        ),
        Option(
            "receiveBuffer",
            Size(*_sockopts.BUFFER_SIZE),
            None,
            doc="Kernel receive buffer size (SO_RCVBUF); Linux doubles it and "
            "caps it at net.core.rmem_max." + _on("receiveBuffer"),
        ),
        Option(
            "sendBuffer",
            Size(*_sockopts.BUFFER_SIZE),
            None,
            doc="Kernel send buffer size (SO_SNDBUF); Linux doubles it and "
            "caps it at net.core.wmem_max." + _on("sendBuffer"),
        ),
        Option(
            "multipath",
            BOOLEAN,
            None,
            doc="Multipath TCP (RFC 8684, IPPROTO_MPTCP); a kernel that "
            "refuses it gets plain TCP, logged once." + _on("multipath"),
        ),
        fastOpen,
    )


#: The names of the socket options, which endpoints take as one TCPOptions.
SOCKET_OPTION_NAMES: Final = frozenset(o.name for o in _socketOptions("server"))

_SERVER_COMMON: Final = (
    Option(
        "port",
        PORT,
        REQUIRED,
        positional=True,
        doc="TCP port to listen on; 0 picks a free one.",
    ),
    Option("backlog", BACKLOG, 50, doc="Size of the listen queue."),
)

_REUSE_PORT: Final = Option(
    "reusePort",
    BOOLEAN,
    False,
    doc="Set SO_REUSEPORT so that several listeners can share the port.",
)

_IPV6_ONLY: Final = Option(
    "ipv6Only",
    BOOLEAN,
    None,
    doc=(
        "Set IPV6_V6ONLY on IPv6 sockets: yes refuses IPv4 clients, no accepts "
        "them as ::ffff:a.b.c.d; unset leaves the system default."
    ),
)

TCP4_SERVER: Final = Spec(
    "tx-tcp4",
    "server",
    (
        *_SERVER_COMMON,
        Option(
            "interface",
            Host(family=4, names=True, empty=True),
            "",
            doc=(
                "IPv4 address or host name to listen on (every IPv4 address "
                "of the name); empty means every IPv4 interface."
            ),
        ),
        _REUSE_PORT,
        *_socketOptions("server"),
    ),
    "TCP listener on IPv4",
)

TCP6_SERVER: Final = Spec(
    "tx-tcp6",
    "server",
    (
        *_SERVER_COMMON,
        Option(
            "interface",
            Host(family=6, names=True),
            "::",
            doc=(
                "IPv6 address (fe80::1%eth0 with a zone) or host name to listen "
                "on (every IPv6 address of the name); :: means every interface."
            ),
        ),
        _IPV6_ONLY,
        _REUSE_PORT,
        *_socketOptions("server"),
    ),
    "TCP listener on IPv6",
)

HOST_SERVER: Final = Spec(
    "tx-host",
    "server",
    (
        *_SERVER_COMMON,
        Option(
            "interface",
            Host(family=None, names=True, empty=True),
            "",
            doc=(
                "Host name or address to listen on, on every IPv4 and IPv6 "
                "address of the name; empty means every interface of both "
                "families."
            ),
        ),
        _IPV6_ONLY,
        _REUSE_PORT,
        *_socketOptions("server"),
    ),
    "TCP listener on every address of a name, IPv4 and IPv6",
)

_STDIO_OPTIONS: Final = (
    Option("stdin", FD, 0, doc="File descriptor to read from."),
    Option("stdout", FD, 1, doc="File descriptor to write to."),
)

STDIO_SERVER: Final = Spec(
    "tx-stdio",
    "server",
    _STDIO_OPTIONS,
    "the process's standard input and output as a port with one connection",
)

STDIO_CLIENT: Final = Spec(
    "tx-stdio",
    "client",
    _STDIO_OPTIONS,
    "the process's standard input and output as a client connection",
)


def _clientOptions(family: int | None) -> tuple[Option[Any], ...]:
    return (
        Option(
            "host",
            Host(family=family),
            REQUIRED,
            positional=True,
            doc="Host name or address literal to connect to.",
        ),
        Option("port", PORT, REQUIRED, positional=True, doc="TCP port to connect to."),
        Option(
            "timeout",
            DURATION,
            30.0,
            doc="Seconds for the whole connect, name resolution included.",
        ),
        Option(
            "bindAddress",
            BindAddress(family),
            None,
            doc="Local address (and :port) to connect from.",
        ),
        Option(
            "attemptDelay",
            DURATION,
            0.25,
            doc="Seconds before trying the next address while one is silent; "
            "0 tries one at a time. Any other value is clamped to 0.01 .. 2 "
            "(RFC 8305 sec. 5): attemptDelay=5 waits 2 s, as check shows.",
        ),
        Option(
            "reuseAddress",
            BOOLEAN,
            False,
            doc="Set SO_REUSEADDR before binding bindAddress, so that a source "
            "port still in TIME_WAIT can be bound again.",
        ),
        Option(
            "reusePort",
            BOOLEAN,
            False,
            doc="Set SO_REUSEPORT before binding bindAddress, so that several "
            "sockets can share the source port.",
        ),
    )


TCP4_CLIENT: Final = Spec(
    "tx-tcp4",
    "client",
    (*_clientOptions(4), *_socketOptions("client")),
    "TCP client over IPv4, trying every A record",
)

TCP6_CLIENT: Final = Spec(
    "tx-tcp6",
    "client",
    (*_clientOptions(6), *_socketOptions("client")),
    "TCP client over IPv6, trying every AAAA record",
)

HOST_CLIENT: Final = Spec(
    "tx-host",
    "client",
    (
        *_clientOptions(None),
        Option(
            "resolutionDelay",
            DURATION,
            0.05,
            doc="Seconds to wait for the preferred family's answer when the "
            "other family answers first.",
        ),
        Option(
            "preferIPv6",
            BOOLEAN,
            True,
            doc="Prefer IPv6 where RFC 6724's address sorting does not decide; "
            "no sorts IPv4 first (RFC 6724 section 10.3's policy table).",
        ),
        Option(
            "familyCount",
            FAMILY_COUNT,
            1,
            doc="How many addresses of the first family to try before the "
            "first of the other (RFC 8305's First Address Family Count).",
        ),
        Option(
            "bindAddress4",
            BindAddress(4, names=False),
            None,
            doc="Local IPv4 address (and :port) for the IPv4 attempts; IPv6 "
            "attempts are not restricted by it.",
        ),
        Option(
            "bindAddress6",
            BindAddress(6, names=False),
            None,
            doc="Local IPv6 address (and :port) for the IPv6 attempts.",
        ),
        *_socketOptions("client"),
    ),
    "TCP client over IPv6 and IPv4 with Happy Eyeballs (RFC 8305)",
)

#: Every spec, by prefix and direction.
SPECS: Final[dict[tuple[str, Direction], Spec]] = {
    (spec.prefix, spec.direction): spec
    for spec in (
        TCP4_SERVER,
        TCP6_SERVER,
        HOST_SERVER,
        STDIO_SERVER,
        TCP4_CLIENT,
        TCP6_CLIENT,
        HOST_CLIENT,
        STDIO_CLIENT,
    )
}
