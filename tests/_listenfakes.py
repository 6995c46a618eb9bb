"""
Fakes for listener tests: a reactor whose ports get kernel-like numbers and
can fail or stop slowly on demand, and a socket that records what was done
to it.
"""

from __future__ import annotations

import socket
from typing import Any, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.testing import MemoryReactorClock
from zope.interface import implementer

from txendpoints._server._socket import SocketMaker


@implementer(IListeningPort)
class FakePort:
    """
    A listening port that records start/stop calls; C{stopListening} returns
    a L{Deferred} that the test fires.  Once that has fired, C{getHost}
    raises L{AttributeError}, as a stopped C{twisted.internet.tcp.Port}'s does.
    """

    def __init__(self, address: IPv4Address | IPv6Address) -> None:
        self.address = address
        self.started = 0
        self.stops = 0
        self.stopping: Deferred[None] | None = None
        self.stopped = False
        self.failStart: Exception | None = None

    def startListening(self) -> None:
        if self.failStart is not None:
            raise self.failStart
        self.started += 1
        self.stopped = False

    def stopListening(self) -> Deferred[None]:
        self.stops += 1
        self.stopping = Deferred()

        def gone(result: object) -> object:
            self.stopped = True
            return result

        return self.stopping.addBoth(gone)

    def getHost(self) -> IPv4Address | IPv6Address:
        if self.stopped:
            raise AttributeError("'FakePort' object has no attribute 'socket'")
        return self.address


class PortReactor(MemoryReactorClock):
    """
    A L{MemoryReactorClock} whose C{listenTCP} gives port 0 the next free
    number and the interface it was asked for, and raises
    L{CannotListenError} for the (interface, port) pairs in C{refuse}.

    It says it is running, as a reactor is when most code listens; set
    C{running} to L{False} for a listen before the reactor runs (twistd's).
    """

    def __init__(self) -> None:
        super().__init__()
        self.running = True
        self.nextPort = 40000
        self.refuse: dict[tuple[str, int], OSError] = {}
        self.ports: list[FakePort] = []

    def listenTCP(
        self, port: int, factory: Any, backlog: int = 50, interface: str = ""
    ) -> FakePort:
        self.tcpServers.append((port, factory, backlog, interface))
        if (interface, port) in self.refuse:
            raise CannotListenError(interface, port, self.refuse[(interface, port)])
        if port == 0:
            self.nextPort += 1
            port = self.nextPort
        if ":" in interface:
            address: IPv4Address | IPv6Address = IPv6Address("TCP", interface, port)
        else:
            address = IPv4Address("TCP", interface or "0.0.0.0", port)
        listening = FakePort(address)
        self.ports.append(listening)
        return listening


class TCPOnly:
    """
    A reactor with C{listenTCP} but neither C{IReactorSocket} nor a
    C{nameResolver}; it is never expected to listen.
    """

    def listenTCP(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("not expected")


class FakeSocket:
    """
    Records what is done to it instead of touching the network.

    @cvar made: Every socket made since the last L{FakeSocket.reset}.
    @cvar failBind: If set, C{bind} raises it.
    @cvar failCreate: If set, creating a socket raises it.
    """

    made: list[FakeSocket] = []
    failBind: OSError | None = None
    failCreate: OSError | None = None

    def __init__(self, family: int, type: int, proto: int = 0) -> None:
        if FakeSocket.failCreate is not None:
            raise FakeSocket.failCreate
        self.family = family
        self.type = type
        self.proto = proto
        self.options: list[tuple[int, int, int | bytes]] = []
        self.blocking = True
        self.bound: tuple[Any, ...] | None = None
        self.backlog: int | None = None
        self.closed = False
        FakeSocket.made.append(self)

    @classmethod
    def reset(cls) -> None:
        cls.made = []
        cls.failBind = None
        cls.failCreate = None

    def setsockopt(self, level: int, name: int, value: int | bytes) -> None:
        self.options.append((level, name, value))

    def setblocking(self, flag: bool) -> None:
        self.blocking = flag

    def bind(self, address: tuple[Any, ...]) -> None:
        if FakeSocket.failBind is not None:
            raise FakeSocket.failBind
        self.bound = address

    def listen(self, backlog: int) -> None:
        self.backlog = backlog

    def fileno(self) -> int:
        return 42

    def close(self) -> None:
        self.closed = True

    def option(self, level: int, name: int) -> int | bytes | None:
        """
        @return: The last value set for an option, or L{None}.
        """
        found = [v for (lv, n, v) in self.options if (lv, n) == (level, name)]
        return found[-1] if found else None


V6ONLY = (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
REUSEPORT = (socket.SOL_SOCKET, getattr(socket, "SO_REUSEPORT", -1))
REUSEADDR = (socket.SOL_SOCKET, socket.SO_REUSEADDR)

#: L{FakeSocket} where a L{SocketMaker} is expected.
makeFakeSocket = cast(SocketMaker, FakeSocket)
