"""
Tests for L{txendpoints._server._accepted}: each accepted connection gets
its socket options before the user's protocol sees it, and then nothing
stands between the protocol and its transport.
"""

from __future__ import annotations

import errno
import socket
from typing import Any, cast

from twisted.internet.address import IPv4Address
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.logger import ILogObserver, LogLevel, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._server._accepted import ConfiguringFactory

from ._listenfakes import FakeSocket

NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
ADDRESS = IPv4Address("TCP", "127.0.0.1", 5000)


class Recording(Protocol):
    made: list[Any]

    def __init__(self) -> None:
        self.made = []

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.made.append(self.transport)


class TCPLikeTransport(StringTransport):
    """
    A transport that, as Twisted's TCP transports, dispatches to its
    C{protocol} attribute and has a socket and a log prefix.
    """

    def __init__(self, sock: Any) -> None:
        super().__init__(peerAddress=ADDRESS)
        self.sock = sock
        self.aborted = False
        self.protocol: Any = None
        self.logstr = ""

    def getHandle(self) -> Any:
        return self.sock

    def abortConnection(self) -> None:
        self.aborted = True


def accept(factory: ConfiguringFactory, transport: Any) -> Any:
    """
    Do what C{tcp.Port.doRead} does with an accepted connection.
    """
    protocol = factory.buildProtocol(ADDRESS)
    assert protocol is not None
    transport.protocol = protocol
    transport.logstr = f"{type(protocol).__name__},0,127.0.0.1"
    protocol.makeConnection(transport)
    return protocol


class ConfiguringFactoryTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.sock = FakeSocket(socket.AF_INET, socket.SOCK_STREAM)
        self.user = Factory.forProtocol(Recording)
        self.factory = ConfiguringFactory(self.user, [NODELAY])
        self.logged: list[dict[str, Any]] = []
        observer = cast(ILogObserver, self.logged.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)

    def test_setsThenHandsOver(self) -> None:
        """
        The options are set before the user's C{connectionMade}, and the
        user's protocol becomes the transport's, with its own log prefix.
        """
        transport = TCPLikeTransport(self.sock)
        accept(self.factory, transport)
        user = transport.protocol
        self.assertIsInstance(user, Recording)
        self.assertEqual(user.made, [transport])
        self.assertIs(user.transport, transport)
        self.assertEqual(self.sock.options, [NODELAY])
        self.assertEqual(transport.logstr, "Recording,0,127.0.0.1")

    def test_declined(self) -> None:
        factory = ConfiguringFactory(Factory.forProtocol(Recording), [NODELAY])
        factory.wrapped.buildProtocol = lambda addr: None  # type: ignore[method-assign]
        self.assertIsNone(factory.buildProtocol(ADDRESS))

    def test_refused(self) -> None:
        """
        A socket that refuses an option is closed, and the failure logged:
        the connection is not served without what was asked for.
        """

        class Refusing(FakeSocket):
            def setsockopt(self, level: int, name: int, value: int | bytes) -> None:
                raise OSError(errno.EINVAL, "Invalid argument")

        transport = TCPLikeTransport(Refusing(socket.AF_INET, socket.SOCK_STREAM))
        protocol = accept(self.factory, transport)
        self.assertTrue(transport.aborted)
        self.assertEqual(protocol._wrapped.made, [])
        errors = [e for e in self.logged if e.get("log_level") == LogLevel.critical]
        self.assertEqual(len(errors), 1)
        self.flushLoggedErrors(OSError)

    def test_notTCP(self) -> None:
        """
        A transport that does not dispatch through C{protocol} cannot be
        handed on: it is closed, and that is logged.
        """
        transport = TCPLikeTransport(self.sock)
        protocol = self.factory.buildProtocol(ADDRESS)
        assert protocol is not None
        protocol.makeConnection(transport)
        self.assertTrue(transport.aborted)
        self.assertEqual(self.sock.options, [])
        self.assertEqual(
            [e["log_level"] for e in self.logged if "log_level" in e],
            [LogLevel.error],
        )

    def test_delegates(self) -> None:
        calls: list[str] = []

        class Counting(Factory):
            def doStart(self) -> None:
                calls.append("start")

            def doStop(self) -> None:
                calls.append("stop")

            def logPrefix(self) -> str:
                return "Counting!"

        factory = ConfiguringFactory(Counting(), [NODELAY])
        factory.doStart()
        factory.doStop()
        self.assertEqual(calls, ["start", "stop"])
        self.assertEqual(factory.logPrefix(), "Counting!")
        self.assertIn("Counting", repr(factory))
