"""
Shared pieces of the real-socket tests: an echo server, a client that
collects a reply, and whether this host has IPv6 loopback.
"""

from __future__ import annotations

import socket

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol


def _hasIPv6Loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


#: Whether a socket can bind ::1 here; IPv6 tests skip without it.
HAS_IPV6 = _hasIPv6Loopback()


class Echo(Protocol):
    """
    Send back everything received.
    """

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]


class Collect(Protocol):
    """
    Gather C{wanted} bytes, then hang up and fire C{done} with them.
    """

    def __init__(self, wanted: int = 5) -> None:
        self.wanted = wanted
        self.data = b""
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if len(self.data) >= self.wanted and not self.done.called:
            self.transport.loseConnection()  # type: ignore[union-attr]
            self.done.callback(self.data)
