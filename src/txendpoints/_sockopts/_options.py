"""
L{TCPOptions}, the one value every TCP endpoint takes its socket options
in, its validation, and what each platform offers.

Which options need which socket constant is looked up once, in
L{_CONSTANTS}, so that tests can pretend to be another platform.  The
string layer shares the ranges and the messages: a bad value is the same
error whether it came from a string or from Python.

It may import only attrs and the standard library.
"""

from __future__ import annotations

import math
import socket
import sys
from collections.abc import Iterator
from typing import Any, Final, Literal

from attrs import fields, frozen

Direction = Literal["server", "client"]

#: The ranges the options take: the kernel's own limits, where it has them.
KEEP_SECONDS: Final = (1, 32767)
KEEP_COUNT: Final = (1, 127)
#: TCP_USER_TIMEOUT is milliseconds in an unsigned int that Linux reads as int.
USER_TIMEOUT_MAX: Final = 2147483.647
BUFFER_SIZE: Final = (1, 2**31 - 1)
FAST_OPEN_QUEUE: Final = (1, 65535)
#: IFNAMSIZ is 16 with the terminating NUL.
DEVICE_NAME_MAX: Final = 15

_LINUX = sys.platform.startswith("linux")


def _constant(name: str, linux: int | None = None) -> int | None:
    """
    A socket constant, or its Linux value where Python does not export it
    but the kernel has it.
    """
    value = getattr(socket, name, None)
    if value is None and _LINUX:
        return linux
    return value


#: Each constant an option needs, or L{None} where this platform lacks it.
_CONSTANTS: dict[str, int | None] = {
    "TCP_NODELAY": _constant("TCP_NODELAY"),
    "SO_KEEPALIVE": _constant("SO_KEEPALIVE"),
    # macOS calls the idle time TCP_KEEPALIVE.
    "TCP_KEEPIDLE": _constant("TCP_KEEPIDLE") or _constant("TCP_KEEPALIVE"),
    "TCP_KEEPINTVL": _constant("TCP_KEEPINTVL"),
    "TCP_KEEPCNT": _constant("TCP_KEEPCNT"),
    "TCP_USER_TIMEOUT": _constant("TCP_USER_TIMEOUT", 18),
    "SO_BINDTODEVICE": _constant("SO_BINDTODEVICE", 25),
    "SO_RCVBUF": _constant("SO_RCVBUF"),
    "SO_SNDBUF": _constant("SO_SNDBUF"),
    # macOS has Multipath TCP only through connectx(); Linux (5.6) through
    # socket(2)'s protocol.
    "IPPROTO_MPTCP": _constant("IPPROTO_MPTCP", 262) if _LINUX else None,
    "TCP_FASTOPEN": _constant("TCP_FASTOPEN", 23),
    "TCP_FASTOPEN_CONNECT": _constant("TCP_FASTOPEN_CONNECT", 30) if _LINUX else None,
    "SO_REUSEADDR": _constant("SO_REUSEADDR"),
    "SO_REUSEPORT": _constant("SO_REUSEPORT"),
}

_KEEP_PLATFORMS: Final = "Linux, macOS, BSD, Windows"

#: For each option: the constant it needs and the platforms that have it,
#: for a server and for a client, for messages and the docs.
PLATFORMS: Final[dict[str, tuple[str, str, str, str]]] = {
    "noDelay": ("TCP_NODELAY", "TCP_NODELAY", "all", "all"),
    "keepAlive": ("SO_KEEPALIVE", "SO_KEEPALIVE", "all", "all"),
    "keepIdle": ("TCP_KEEPIDLE", "TCP_KEEPIDLE", _KEEP_PLATFORMS, _KEEP_PLATFORMS),
    "keepInterval": (
        "TCP_KEEPINTVL",
        "TCP_KEEPINTVL",
        _KEEP_PLATFORMS,
        _KEEP_PLATFORMS,
    ),
    "keepCount": ("TCP_KEEPCNT", "TCP_KEEPCNT", _KEEP_PLATFORMS, _KEEP_PLATFORMS),
    "userTimeout": ("TCP_USER_TIMEOUT", "TCP_USER_TIMEOUT", "Linux", "Linux"),
    "bindDevice": ("SO_BINDTODEVICE", "SO_BINDTODEVICE", "Linux", "Linux"),
    "receiveBuffer": ("SO_RCVBUF", "SO_RCVBUF", "all", "all"),
    "sendBuffer": ("SO_SNDBUF", "SO_SNDBUF", "all", "all"),
    "multipath": (
        "IPPROTO_MPTCP",
        "IPPROTO_MPTCP",
        "Linux 5.6 or later",
        "Linux 5.6 or later",
    ),
    "fastOpen": (
        "TCP_FASTOPEN",
        "TCP_FASTOPEN_CONNECT",
        "Linux, macOS, BSD",
        "Linux 4.11 or later",
    ),
}


def platformsOf(name: str, direction: Direction) -> tuple[str, str]:
    """
    @param name: A socket option's name.
    @param direction: C{"server"} or C{"client"}.
    @return: The socket constant it needs, and the platforms that have it.
    """
    server, client, onServer, onClient = PLATFORMS[name]
    return (server, onServer) if direction == "server" else (client, onClient)


class OptionError(ValueError):
    """
    A socket option that is out of range, conflicts with another, or that
    this platform lacks.  The string layer turns it into an
    L{EndpointStringError<txendpoints.EndpointStringError>} for the prefix.

    @ivar option: The option at fault.
    @ivar value: Its value as a string would write it.
    """

    def __init__(self, message: str, option: str, value: str) -> None:
        super().__init__(message)
        self.option = option
        self.value = value


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _integer(name: str, value: object, low: int, high: int, noun: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (low <= value <= high)
    ):
        raise OptionError(
            f"{name} {value!r} is not {noun} from {low} to {high}", name, _text(value)
        )


@frozen(repr=False)
class TCPOptions:
    """
    TCP socket options, for every TCP endpoint in both directions.  Each is
    L{None} by default, which leaves the system default alone; a value is
    set, or the endpoint is refused: nothing is dropped.

    @ivar noDelay: C{TCP_NODELAY}: L{True} sends small writes at once
        (Nagle's algorithm off).
    @ivar keepAlive: C{SO_KEEPALIVE}.  Setting any of C{keepIdle},
        C{keepInterval} or C{keepCount} makes it L{True}; with L{False}
        they are an error.
    @ivar keepIdle: Whole seconds of silence before the first probe
        (C{TCP_KEEPIDLE}, C{TCP_KEEPALIVE} on macOS), 1 to 32767.
    @ivar keepInterval: Whole seconds between probes (C{TCP_KEEPINTVL}).
    @ivar keepCount: Probes unanswered before the connection is dropped
        (C{TCP_KEEPCNT}), 1 to 127.
    @ivar userTimeout: Seconds that sent data may stay unacknowledged
        before the connection is dropped (C{TCP_USER_TIMEOUT}, Linux),
        rounded up to a millisecond.
    @ivar bindDevice: An interface name; the socket sends and receives
        through that device only (C{SO_BINDTODEVICE}, Linux).
    @ivar receiveBuffer: C{SO_RCVBUF} in bytes (Linux doubles it, and caps
        it at C{net.core.rmem_max}).
    @ivar sendBuffer: C{SO_SNDBUF} in bytes (capped at C{wmem_max}).
    @ivar multipath: Multipath TCP (RFC 8684, C{IPPROTO_MPTCP}, Linux): a
        kernel that refuses it gets plain TCP, logged once.
    @ivar fastOpen: TCP Fast Open: for a server the queue length of
        pending Fast Open requests (an C{int}, C{TCP_FASTOPEN}); for a
        client L{True} or L{False} (C{TCP_FASTOPEN_CONNECT}, Linux).
    """

    noDelay: bool | None = None
    keepAlive: bool | None = None
    keepIdle: int | None = None
    keepInterval: int | None = None
    keepCount: int | None = None
    userTimeout: float | None = None
    bindDevice: str | None = None
    receiveBuffer: int | None = None
    sendBuffer: int | None = None
    multipath: bool | None = None
    fastOpen: bool | int | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("noDelay", "keepAlive", "multipath"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise OptionError(f"{name} {value!r} is not a bool", name, str(value))
        timing = [
            n
            for n in ("keepIdle", "keepInterval", "keepCount")
            if getattr(self, n) is not None
        ]
        for name in ("keepIdle", "keepInterval"):
            if getattr(self, name) is not None:
                _integer(
                    name,
                    getattr(self, name),
                    *KEEP_SECONDS,
                    "a whole number of seconds",
                )
        if self.keepCount is not None:
            _integer("keepCount", self.keepCount, *KEEP_COUNT, "a number")
        if timing and self.keepAlive is False:
            raise OptionError(
                f"{timing[0]} tunes keepalive, which keepAlive=no turns off",
                timing[0],
                _text(getattr(self, timing[0])),
            )
        if timing and self.keepAlive is None:
            # Any timing implies keepalive: an equal value either way.
            object.__setattr__(self, "keepAlive", True)
        if self.userTimeout is not None:
            value = self.userTimeout
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (0 < value <= USER_TIMEOUT_MAX)
                or math.isnan(value)
            ):
                raise OptionError(
                    f"userTimeout {value!r} is not a number of seconds above 0 "
                    f"and at most {USER_TIMEOUT_MAX}",
                    "userTimeout",
                    str(value),
                )
        if self.bindDevice is not None:
            _checkDevice(self.bindDevice)
        for name in ("receiveBuffer", "sendBuffer"):
            if getattr(self, name) is not None:
                _integer(name, getattr(self, name), *BUFFER_SIZE, "a number of bytes")

    def __repr__(self) -> str:
        given = ", ".join(f"{name}={value!r}" for name, value in self.given())
        return f"TCPOptions({given})"

    def given(self) -> Iterator[tuple[str, Any]]:
        """
        @return: The options that are set, by name, in declaration order.
        """
        for field in fields(TCPOptions):
            value = getattr(self, field.name)
            if value is not None:
                yield field.name, value


def _checkDevice(name: object) -> None:
    if not isinstance(name, str):
        raise OptionError(f"bindDevice {name!r} is not text", "bindDevice", repr(name))
    encoded = name.encode("utf-8", "surrogateescape")
    if (
        not name
        or len(encoded) > DEVICE_NAME_MAX
        or name in (".", "..")
        or any(c in name for c in "/\0")
        or any(c.isspace() for c in name)
    ):
        raise OptionError(
            f"bindDevice {name!r} is not a network interface name (1 to "
            f"{DEVICE_NAME_MAX} bytes, no '/', NUL or white space)",
            "bindDevice",
            name,
        )


NO_OPTIONS: Final = TCPOptions()


def checkFor(options: TCPOptions, direction: Direction) -> None:
    """
    Refuse what C{options} asks of a C{direction} endpoint that it cannot
    be given here.

    @param options: The options.
    @param direction: C{"server"} or C{"client"}.
    @raise OptionError: For a C{fastOpen} of the other direction's type, or
        an option whose socket constant this platform lacks.
    @raise TypeError: If C{options} is not a L{TCPOptions}.
    """
    if not isinstance(options, TCPOptions):
        raise TypeError(
            f"options must be a txendpoints.TCPOptions, not {type(options).__name__}"
        )
    fastOpen = options.fastOpen
    if fastOpen is not None:
        if direction == "client" and not isinstance(fastOpen, bool):
            raise OptionError(
                f"fastOpen {fastOpen!r} is not yes or no: a client turns Fast "
                "Open on or off, only a server has a queue length",
                "fastOpen",
                str(fastOpen),
            )
        if direction == "server":
            if isinstance(fastOpen, bool):
                raise OptionError(
                    f"fastOpen {fastOpen!r} is not a queue length: a server "
                    "takes the number of pending Fast Open requests (such as 256)",
                    "fastOpen",
                    _text(fastOpen),
                )
            _integer("fastOpen", fastOpen, *FAST_OPEN_QUEUE, "a queue length")
    for name, value in options.given():
        constant, platforms = platformsOf(name, direction)
        if name == "fastOpen" and value is False:
            continue  # Off is what a platform without it does anyway.
        if _CONSTANTS[constant] is None:
            raise OptionError(
                f"option '{name}' needs {constant}, which this platform "
                f"({sys.platform}) does not have; it works on "
                + ("every platform" if platforms == "all" else platforms),
                name,
                _text(value),
            )


def checked(options: TCPOptions | None, direction: Direction) -> TCPOptions:
    """
    The options an endpoint class was given, checked by L{checkFor}.

    @param options: The C{options} argument, or L{None} for none.
    @param direction: C{"server"} or C{"client"}.
    @return: C{options}, or L{NO_OPTIONS} for L{None}.
    @raise OptionError: See L{checkFor}.
    @raise TypeError: See L{checkFor}.
    """
    if options is None:
        return NO_OPTIONS
    checkFor(options, direction)
    return options
