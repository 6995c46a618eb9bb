"""
Tests for L{txendpoints._client._socket}: which attempts need a socket set
up by us, the connector that does it, and the socket it creates.
"""

from __future__ import annotations

import socket
from typing import Any, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectError
from twisted.internet.protocol import ClientFactory
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from txendpoints import TCPOptions
from txendpoints._client import _socket
from txendpoints._client._socket import SocketSetup, _Client, setUp
from txendpoints._settings import TCP4ClientSettings
from txendpoints._sockopts._options import _CONSTANTS

from ._listenfakes import FakeSocket

try:
    from twisted.internet.tcp import makeBinding
except ImportError:  # pragma: no cover - older Twisted
    makeBinding = None  # type: ignore[assignment]


V4 = IPv4Address("TCP", "10.0.0.2", 80)
V6 = IPv6Address("TCP", "::2", 80)


def settings(**kwargs: Any) -> TCP4ClientSettings:
    return TCP4ClientSettings("example.org", 80, **kwargs)


class SetUpTests(SynchronousTestCase):
    """
    An attempt gets a L{SocketSetup} only when C{connectTCP} alone cannot
    do what it asks.
    """

    def test_nothingToSet(self) -> None:
        self.assertIsNone(setUp(V4, None, {}, settings()))
        self.assertEqual(setUp(V6, ("::1", 0), {}, settings()), ("::1", 0))

    def test_byFamily(self) -> None:
        byFamily: dict[int, Any] = {6: ("::9", 0)}
        self.assertEqual(setUp(V6, None, byFamily, settings()), ("::9", 0))
        self.assertIsNone(setUp(V4, None, byFamily, settings()))

    def test_options(self) -> None:
        options = TCPOptions(noDelay=True)
        self.assertEqual(
            setUp(V4, ("10.0.0.1", 0), {}, settings(options=options)),
            SocketSetup(("10.0.0.1", 0), options),
        )

    def test_reuseWithoutBinding(self) -> None:
        """
        Reuse options that no C{makeBinding} result carries are ours to set.
        """
        self.assertEqual(
            setUp(V4, ("10.0.0.1", 5), {}, settings(reuseAddress=True, reusePort=True)),
            SocketSetup(("10.0.0.1", 5), TCPOptions(), True, True),
        )

    def test_reuseByBinding(self) -> None:
        if makeBinding is None:
            raise SkipTest("no makeBinding")  # pragma: no cover
        bound = makeBinding("10.0.0.1", 5, False, True)
        self.assertIs(setUp(V4, bound, {}, settings(reusePort=True)), bound)


class ConnectTests(SynchronousTestCase):
    def test_notPosix(self) -> None:
        """
        A reactor whose sockets are not Twisted's posix ones cannot be
        configured: the attempt fails, naming what was asked.
        """
        setup = SocketSetup(None, TCPOptions(noDelay=True), reusePort=True)
        with self.assertRaises(ConnectError) as e:
            setup.connectTCP(MemoryReactorClock())
        self.assertIn(
            "socket options (noDelay, reusePort) need a reactor", str(e.exception)
        )
        self.assertIn("MemoryReactorClock is not one", str(e.exception))

    def test_connector(self) -> None:
        """
        On a posix reactor, the connector is Twisted's, given the setup
        before it connects.
        """
        made: list[Any] = []

        class Recording(_socket._Connector):
            def connect(self) -> None:
                made.append(self)

        self.patch(_socket, "canConfigure", lambda reactor: True)
        self.patch(_socket, "_Connector", Recording)
        setup = SocketSetup(("10.0.0.1", 0), TCPOptions(noDelay=True))
        reactor = MemoryReactorClock()
        factory = ClientFactory()
        connector = setup.connectTCP(reactor)(
            "10.0.0.2", 80, factory, 5, ("10.0.0.1", 0)
        )
        self.assertEqual(made, [connector])
        recorded = cast(Recording, connector)
        self.assertIs(recorded.setup, setup)
        self.assertEqual(
            (recorded.host, recorded.port, recorded.factory, recorded.timeout),
            ("10.0.0.2", 80, factory, 5),
        )
        self.assertEqual(recorded.bindAddress, ("10.0.0.1", 0))


class CreateSocketTests(SynchronousTestCase):
    """
    The transport's socket is created with the options set, before
    C{tcp.Client} binds and connects it.
    """

    def client(self, setup: SocketSetup, family: int = socket.AF_INET) -> _Client:
        FakeSocket.reset()
        self.patch(
            _socket, "createSocket", lambda family, options: FakeSocket(family, 1, 0)
        )
        client = _Client.__new__(_Client)
        client._setup = setup
        client.addressFamily = socket.AddressFamily(family)
        return client

    def test_options(self) -> None:
        sock = cast(
            Any,
            self.client(
                SocketSetup(None, TCPOptions(noDelay=True), reuseAddress=True),
                socket.AF_INET6,
            ).createInternetSocket(),
        )
        self.assertEqual(sock.family, socket.AF_INET6)
        self.assertFalse(sock.blocking)
        self.assertEqual(
            sock.options,
            [
                (socket.SOL_SOCKET, _CONSTANTS["SO_REUSEADDR"], 1),
                (socket.IPPROTO_TCP, _CONSTANTS["TCP_NODELAY"], 1),
            ],
        )

    def test_refusedCloses(self) -> None:
        """
        A socket whose option is refused is closed, and the error is
        C{tcp.Client}'s to report.
        """
        client = self.client(SocketSetup(None, TCPOptions(noDelay=True)))

        def refuse(*args: object) -> None:
            raise OSError(22, "Invalid argument")

        self.patch(FakeSocket, "setsockopt", refuse)
        with self.assertRaises(OSError):
            client.createInternetSocket()
        self.assertTrue(FakeSocket.made[-1].closed)
