"""
Real-reactor tests of the socket options, on loopback only: every option
is read back with C{getsockopt} from both the accepted and the connecting
socket, for each prefix.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import connectProtocol
from twisted.internet.error import (
    ConnectBindError,
    ConnectingCancelledError,
    ConnectionRefusedError,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import TestCase

from tests._loopback import HAS_IPV6
from txendpoints import clientFromString, serverFromString
from txendpoints._sockopts._options import _CONSTANTS

reactor: Any = _reactor

LINUX = sys.platform.startswith("linux")
TCP = socket.IPPROTO_TCP
SOL = socket.SOL_SOCKET

#: Every option that a connection's socket shows, for both ends.
OPTIONS = (
    ":noDelay=yes:keepIdle=77:keepInterval=7:keepCount=5:userTimeout=2.5"
    ":bindDevice=lo:receiveBuffer=32K:sendBuffer=48K"
)


def const(name: str) -> int:
    value = _CONSTANTS[name]
    assert value is not None
    return value


def readBack(sock: socket.socket) -> dict[str, Any]:
    """
    What C{getsockopt} says of each option in L{OPTIONS}.
    """
    device = sock.getsockopt(SOL, const("SO_BINDTODEVICE"), 16)
    return {
        "noDelay": sock.getsockopt(TCP, const("TCP_NODELAY")),
        "keepAlive": sock.getsockopt(SOL, const("SO_KEEPALIVE")),
        "keepIdle": sock.getsockopt(TCP, const("TCP_KEEPIDLE")),
        "keepInterval": sock.getsockopt(TCP, const("TCP_KEEPINTVL")),
        "keepCount": sock.getsockopt(TCP, const("TCP_KEEPCNT")),
        "userTimeout": sock.getsockopt(TCP, const("TCP_USER_TIMEOUT")),
        "bindDevice": device.rstrip(b"\0"),
        # Linux doubles what it is given, for its own bookkeeping.
        "receiveBuffer": sock.getsockopt(SOL, socket.SO_RCVBUF),
        "sendBuffer": sock.getsockopt(SOL, socket.SO_SNDBUF),
    }


EXPECTED = {
    "noDelay": 1,
    "keepAlive": 1,
    "keepIdle": 77,
    "keepInterval": 7,
    "keepCount": 5,
    "userTimeout": 2500,
    "bindDevice": b"lo",
    "receiveBuffer": 2 * 32 * 1024,
    "sendBuffer": 2 * 48 * 1024,
}


class Accepted(Protocol):
    """
    Fire C{made} with the accepted connection's socket options.
    """

    def __init__(self, made: Deferred[dict[str, Any]]) -> None:
        self.made = made

    def connectionMade(self) -> None:
        self.made.callback(readBack(self.transport.getHandle()))  # type: ignore[union-attr]


def listenForOne(test: TestCase, server: str) -> tuple[Any, Deferred[dict[str, Any]]]:
    made: Deferred[dict[str, Any]] = Deferred()
    factory = Factory.forProtocol(lambda: Accepted(made))
    port = test.successResultOf(serverFromString(reactor, server).listen(factory))
    test.addCleanup(port.stopListening)
    return port, made


class EveryOptionTests(TestCase):
    """
    Both ends of a loopback connection show every option set.
    """

    def setUp(self) -> None:
        if not LINUX:
            self.skipTest("userTimeout and bindDevice are Linux options")

    @inlineCallbacks
    def check(self, server: str, client: str, host: str) -> Generator[Any, Any, None]:
        port, accepted = listenForOne(self, server + OPTIONS)
        number = port.getHost().port
        proto = yield connectProtocol(
            clientFromString(reactor, client % (number,) + OPTIONS), Protocol()
        )
        self.addCleanup(proto.transport.loseConnection)
        connecting = proto.transport.getHandle()
        self.assertEqual(readBack(connecting), EXPECTED)
        self.assertEqual(connecting.getpeername()[0], host)
        self.assertEqual((yield accepted), EXPECTED)

    def test_tcp4(self) -> Any:
        return self.check(
            "tx-tcp4:0:interface=127.0.0.1", "tx-tcp4:127.0.0.1:%d", "127.0.0.1"
        )

    def test_tcp6(self) -> Any:
        if not HAS_IPV6:
            self.skipTest("no IPv6 loopback")
        return self.check("tx-tcp6:0:interface=\\:\\:1", "tx-tcp6:\\:\\:1:%d", "::1")

    def test_host4(self) -> Any:
        return self.check(
            "tx-host:0:interface=127.0.0.1", "tx-host:127.0.0.1:%d", "127.0.0.1"
        )

    def test_host6(self) -> Any:
        if not HAS_IPV6:
            self.skipTest("no IPv6 loopback")
        return self.check("tx-host:0:interface=\\:\\:1", "tx-host:\\:\\:1:%d", "::1")

    @inlineCallbacks
    def test_fastOpen(self) -> Generator[Any, Any, None]:
        """
        The listener has its Fast Open queue, the client Fast Open on
        connect.
        """
        port, accepted = listenForOne(self, "tx-tcp4:0:interface=127.0.0.1:fastOpen=5")
        [listening] = port.ports
        self.assertEqual(listening.socket.getsockopt(TCP, const("TCP_FASTOPEN")), 5)
        proto = yield connectProtocol(
            clientFromString(
                reactor, f"tx-tcp4:127.0.0.1:{port.getHost().port}:fastOpen=yes"
            ),
            Protocol(),
        )
        self.addCleanup(proto.transport.loseConnection)
        handle = proto.transport.getHandle()
        self.assertEqual(handle.getsockopt(TCP, const("TCP_FASTOPEN_CONNECT")), 1)
        yield accepted


class FixedSourcePortTests(TestCase):
    """
    With C{reusePort=yes}, two client sockets share one source port, to two
    different listeners.
    """

    @inlineCallbacks
    def test_shared(self) -> Generator[Any, Any, None]:
        first, firstMade = listenForOne(self, "tx-tcp4:0:interface=127.0.0.1")
        second, secondMade = listenForOne(self, "tx-tcp4:0:interface=127.0.0.1")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            source = probe.getsockname()[1]
        sources = []
        for port in (first, second):
            proto = yield connectProtocol(
                clientFromString(
                    reactor,
                    f"tx-tcp4:127.0.0.1:{port.getHost().port}"
                    f":bindAddress=127.0.0.1\\:{source}:reusePort=yes",
                ),
                Protocol(),
            )
            self.addCleanup(proto.transport.loseConnection)
            host: Any = proto.transport.getHost()
            sources.append(host.port)
        self.assertEqual(sources, [source, source])
        yield firstMade
        yield secondMade


class MultipathTests(TestCase):
    """
    C{multipath=yes} gives Multipath TCP sockets at both ends, on a kernel
    that has it.
    """

    def setUp(self) -> None:
        enabled = Path("/proc/sys/net/mptcp/enabled")
        if not enabled.exists():
            self.skipTest("this kernel has no Multipath TCP (no net.mptcp.enabled)")
        if enabled.read_text().strip() == "0":
            self.skipTest("Multipath TCP is turned off (net.mptcp.enabled=0)")

    @inlineCallbacks
    def test_bothEnds(self) -> Generator[Any, Any, None]:
        made: Deferred[int] = Deferred()
        lost: Deferred[None] = Deferred()

        class Proto(Protocol):
            def connectionMade(self) -> None:
                handle = self.transport.getHandle()  # type: ignore[union-attr]
                made.callback(handle.getsockopt(SOL, socket.SO_PROTOCOL))

            def connectionLost(self, reason: Any = None) -> None:
                lost.callback(None)

        port: Any = self.successResultOf(
            serverFromString(
                reactor, "tx-tcp4:0:interface=127.0.0.1:multipath=yes"
            ).listen(Factory.forProtocol(Proto))
        )
        self.addCleanup(port.stopListening)
        proto = yield connectProtocol(
            clientFromString(
                reactor, f"tx-tcp4:127.0.0.1:{port.getHost().port}:multipath=yes"
            ),
            Protocol(),
        )
        mptcp = const("IPPROTO_MPTCP")
        try:
            self.assertEqual(
                proto.transport.getHandle().getsockopt(SOL, socket.SO_PROTOCOL),
                mptcp,
            )
            self.assertEqual((yield made), mptcp)
        finally:
            # Both ends closed before the test ends: the accepted side too,
            # which a cleanup that closed only ours would leave to chance.
            proto.transport.loseConnection()
            yield made
            yield lost


class FailureTests(TestCase):
    """
    With options, connect fails and cancels as it does without.
    """

    def freePort(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    def test_refused(self) -> Any:
        d = clientFromString(
            reactor, f"tx-tcp4:127.0.0.1:{self.freePort()}:noDelay=yes"
        ).connect(Factory.forProtocol(Protocol))
        return self.assertFailure(d, ConnectionRefusedError)

    def test_cancelled(self) -> Any:
        port, _ = listenForOne(self, "tx-tcp4:0:interface=127.0.0.1")
        d = clientFromString(
            reactor, f"tx-tcp4:127.0.0.1:{port.getHost().port}:keepAlive=yes"
        ).connect(Factory.forProtocol(Protocol))
        d.cancel()
        return self.assertFailure(d, ConnectingCancelledError)

    def test_noSuchDevice(self) -> Any:
        """
        A device the kernel does not know fails the attempt with Twisted's
        bind error, naming the option.
        """
        if not LINUX:
            self.skipTest("bindDevice is a Linux option")
        d = clientFromString(
            reactor, f"tx-tcp4:127.0.0.1:{self.freePort()}:bindDevice=nosuch0"
        ).connect(Factory.forProtocol(Protocol))

        def named(error: Any) -> None:
            self.assertIn("SO_BINDTODEVICE", str(error))

        failing: Any = self.assertFailure(d, ConnectBindError)
        return failing.addCallback(named)
