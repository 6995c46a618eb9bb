"""
Setting L{TCPOptions} on sockets: which C{setsockopt} calls a listener, an
accepted connection and a client socket need, and creating a Multipath TCP
socket with the fallback to plain TCP.

It may import L{txendpoints._sockopts._options}, Twisted and the standard
library.
"""

from __future__ import annotations

import errno
import math
import socket
from collections.abc import Callable
from typing import Any, Final

from twisted.logger import Logger

from ._options import _CONSTANTS, Direction, TCPOptions

_log = Logger()


def _sockopt(name: str) -> int:
    constant = _CONSTANTS[name]
    assert constant is not None, name  # checkFor() refused it already.
    return constant


Setting = tuple[int, int, int | bytes]


def perConnection(options: TCPOptions) -> list[Setting]:
    """
    The options each connection's own socket needs: those some kernels
    (macOS, the BSDs) do not copy from a listener to the sockets it
    accepts.

    @param options: Options that passed L{checkFor}.
    @return: C{setsockopt} arguments.
    """
    tcp = socket.IPPROTO_TCP
    settings: list[Setting] = []
    if options.noDelay is not None:
        settings.append((tcp, _sockopt("TCP_NODELAY"), int(options.noDelay)))
    if options.keepAlive is not None:
        settings.append(
            (socket.SOL_SOCKET, _sockopt("SO_KEEPALIVE"), int(options.keepAlive))
        )
    for name, constant in (
        ("keepIdle", "TCP_KEEPIDLE"),
        ("keepInterval", "TCP_KEEPINTVL"),
        ("keepCount", "TCP_KEEPCNT"),
    ):
        value = getattr(options, name)
        if value is not None:
            settings.append((tcp, _sockopt(constant), value))
    if options.userTimeout is not None:
        milliseconds = math.ceil(round(options.userTimeout * 1000, 6))
        settings.append((tcp, _sockopt("TCP_USER_TIMEOUT"), milliseconds))
    return settings


def socketSettings(
    options: TCPOptions,
    direction: Direction,
    reuseAddress: bool = False,
    reusePort: bool = False,
) -> list[Setting]:
    """
    Every option for a new socket, in the order to set them, before it is
    bound: the device and the buffers before bind and connect (the window
    scale is chosen at the handshake), Fast Open before listen or connect.

    @param options: Options that passed L{checkFor} for C{direction}.
    @param direction: C{"server"} for a listening socket, C{"client"}.
    @param reuseAddress: Whether to set C{SO_REUSEADDR} (clients).
    @param reusePort: Whether to set C{SO_REUSEPORT} (clients).
    @return: C{setsockopt} arguments.
    """
    sol = socket.SOL_SOCKET
    settings: list[Setting] = []
    if reuseAddress:
        settings.append((sol, _sockopt("SO_REUSEADDR"), 1))
    if reusePort:
        settings.append((sol, _sockopt("SO_REUSEPORT"), 1))
    if options.bindDevice is not None:
        device = options.bindDevice.encode("utf-8", "surrogateescape")
        settings.append((sol, _sockopt("SO_BINDTODEVICE"), device))
    if options.receiveBuffer is not None:
        settings.append((sol, _sockopt("SO_RCVBUF"), options.receiveBuffer))
    if options.sendBuffer is not None:
        settings.append((sol, _sockopt("SO_SNDBUF"), options.sendBuffer))
    settings += perConnection(options)
    fastOpen = options.fastOpen
    if direction == "server" and fastOpen:
        settings.append((socket.IPPROTO_TCP, _sockopt("TCP_FASTOPEN"), int(fastOpen)))
    elif direction == "client" and fastOpen is True:
        settings.append((socket.IPPROTO_TCP, _sockopt("TCP_FASTOPEN_CONNECT"), 1))
    return settings


def apply(sock: Any, settings: list[Setting]) -> None:
    """
    Set each of C{settings} on C{sock}.

    @param sock: A socket.
    @param settings: From L{socketSettings} or L{perConnection}.
    @raise OSError: If the kernel refuses one; its message names the option
        (a Multipath TCP socket refuses some that plain TCP takes).
    """
    for setting in settings:
        try:
            sock.setsockopt(*setting)
        except OSError as e:
            raise OSError(e.errno, f"{e.strerror} (setting {_name(setting)})") from e


def _name(setting: Setting) -> str:
    level, option = setting[0], setting[1]
    prefix = "SO_" if level == socket.SOL_SOCKET else "TCP_"
    for name, constant in _CONSTANTS.items():
        if constant == option and name.startswith(prefix):
            return name
    return f"option {option} at level {level}"


#: The errors of socket(2) from a kernel without Multipath TCP (or with it
#: turned off by net.mptcp.enabled=0).
_NO_MPTCP: Final = frozenset(
    {errno.EPROTONOSUPPORT, errno.ENOPROTOOPT, errno.EINVAL, errno.EAFNOSUPPORT}
)

_fellBack: list[bool] = []


def createSocket(
    family: int,
    options: TCPOptions,
    makeSocket: Callable[..., socket.socket] = socket.socket,
) -> socket.socket:
    """
    Create a TCP socket: a Multipath TCP one if C{options} asks, or a plain
    one, logged once per process, where the kernel refuses it (as Go does).

    @param family: C{AF_INET} or C{AF_INET6}.
    @param options: Options that passed L{checkFor}.
    @param makeSocket: C{socket.socket}, or a stand-in.
    @return: The socket.
    @raise OSError: If the socket cannot be created.
    """
    if options.multipath:
        try:
            return makeSocket(family, socket.SOCK_STREAM, _sockopt("IPPROTO_MPTCP"))
        except OSError as e:
            if e.errno not in _NO_MPTCP:
                raise
            if not _fellBack:
                _fellBack.append(True)
                _log.warn(
                    "multipath=yes: this kernel refuses Multipath TCP ({error}); "
                    "using plain TCP",
                    error=e,
                )
    return makeSocket(family, socket.SOCK_STREAM)


def multipathWorks(makeSocket: Callable[..., socket.socket] = socket.socket) -> bool:
    """
    Whether this kernel creates Multipath TCP sockets, for
    C{txendpoints check}.

    @param makeSocket: C{socket.socket}, or a stand-in.
    @return: L{False} where C{multipath=yes} would fall back to plain TCP.
    """
    constant = _CONSTANTS["IPPROTO_MPTCP"]
    if constant is None:
        return False
    try:
        makeSocket(socket.AF_INET, socket.SOCK_STREAM, constant).close()
    except OSError:
        return False
    return True
