"""
Socket options through the endpoints, on L{MemoryReactorClock}: strings and
classes refuse the same things with the same words, servers configure the
listener and each connection, and clients set them up on every attempt.
"""

from __future__ import annotations

import socket
import sys
from typing import Any
from unittest import mock

from twisted.internet.error import (
    CannotListenError,
    ConnectError,
    ConnectingCancelledError,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import (
    EndpointStringError,
    HostClientEndpoint,
    HostServerEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    TCP6ServerEndpoint,
    TCPOptions,
    clientFromString,
    describe,
    serverFromString,
)
from txendpoints._client import _socket
from txendpoints._client._socket import SocketSetup
from txendpoints._server._accepted import ConfiguringFactory
from txendpoints._server._endpoints import _TCPServerEndpoint
from txendpoints._sockopts._options import _CONSTANTS
from txendpoints.testing import FakeResolver

from ._listenfakes import FakeSocket, PortReactor, TCPOnly, makeFakeSocket


def const(name: str) -> int:
    value = _CONSTANTS[name]
    assert value is not None
    return value


class StringTests(SynchronousTestCase):
    """
    The options in strings: values, implications, and our error for each
    bad one, naming the prefix, the option and the value.
    """

    def refused(self, text: str, direction: str = "server") -> EndpointStringError:
        parse = serverFromString if direction == "server" else clientFromString
        with self.assertRaises(EndpointStringError) as e:
            parse(MemoryReactorClock(), text)
        return e.exception

    def test_values(self) -> None:
        endpoint = serverFromString(
            MemoryReactorClock(),
            "tx-tcp6:80:noDelay=yes:keepIdle=60:receiveBuffer=64k:sendBuffer=2M"
            ":userTimeout=0.5:bindDevice=lo:multipath=1:fastOpen=16",
        )
        self.assertEqual(
            endpoint._settings.options,  # type: ignore[attr-defined]
            TCPOptions(
                noDelay=True,
                keepAlive=True,
                keepIdle=60,
                receiveBuffer=65536,
                sendBuffer=2 << 20,
                userTimeout=0.5,
                bindDevice="lo",
                multipath=True,
                fastOpen=16,
            ),
        )
        self.assertEqual(
            describe(endpoint),
            "tx-tcp6:80:noDelay=yes:keepAlive=yes:keepIdle=60:userTimeout=0.5"
            ":bindDevice=lo:receiveBuffer=64K:sendBuffer=2M:multipath=yes:fastOpen=16",
        )

    def test_messages(self) -> None:
        cases = [
            (
                "tx-tcp4:80:keepAlive=no:keepIdle=5",
                "tx-tcp4: keepIdle tunes keepalive, which keepAlive=no turns off",
                "keepIdle",
            ),
            (
                "tx-tcp4:80:keepCount=0",
                "tx-tcp4: keepCount '0' is not a number from 1 to 127",
                "keepCount",
            ),
            (
                "tx-tcp4:80:keepIdle=1.5",
                "tx-tcp4: keepIdle '1.5' is not a whole number of seconds from 1 "
                "to 32767",
                "keepIdle",
            ),
            (
                "tx-tcp4:80:userTimeout=0",
                "tx-tcp4: userTimeout '0' is not a number of seconds above 0 and "
                "at most 2147483.647",
                "userTimeout",
            ),
            (
                "tx-tcp4:80:receiveBuffer=2G",
                "tx-tcp4: receiveBuffer '2G' is not a number of bytes from 1 to "
                "2147483647 (K, M allowed)",
                "receiveBuffer",
            ),
            (
                "tx-tcp4:80:bindDevice=a/b",
                "tx-tcp4: bindDevice 'a/b' is not a network interface name (1 to "
                "15 bytes, no '/', NUL or white space)",
                "bindDevice",
            ),
            (
                "tx-tcp4:80:fastOpen=yes",
                "tx-tcp4: fastOpen 'yes' is not a queue length from 1 to 65535",
                "fastOpen",
            ),
        ]
        for text, message, option in cases:
            e = self.refused(text)
            self.assertEqual((str(e), e.option), (message, option), text)

    def test_clientMessages(self) -> None:
        e = self.refused("tx-tcp4:h:80:fastOpen=5", "client")
        self.assertEqual(
            str(e), "tx-tcp4: fastOpen '5' is not one of yes, no, true, false, 1, 0"
        )
        e = self.refused(
            "tx-host:h:80:bindAddress=10.0.0.2:bindAddress4=10.0.0.1", "client"
        )
        self.assertEqual(
            str(e),
            "tx-host: bindAddress and bindAddress4 are both given; give either "
            "bindAddress (which restricts the attempts to its family) or "
            "bindAddress4 and bindAddress6",
        )
        self.assertEqual((e.option, e.value), ("bindAddress4", "10.0.0.1"))
        e = self.refused("tx-host:h:80:bindAddress4=[\\:\\:1]", "client")
        self.assertEqual(
            str(e),
            "tx-host: bindAddress4 '[::1]' is an IPv6 address, but this endpoint "
            "needs an IPv4 address",
        )
        e = self.refused("tx-host:h:80:bindAddress6=localhost", "client")
        self.assertEqual(
            str(e), "tx-host: bindAddress6 'localhost' is not an IPv6 address"
        )

    def test_platformLacks(self) -> None:
        """
        An option this platform lacks is refused when the string is parsed,
        never dropped.
        """
        with mock.patch.dict(_CONSTANTS, {"SO_BINDTODEVICE": None}):
            for direction, text in (
                ("server", "tx-host:80:bindDevice=lo"),
                ("client", "tx-host:h:80:bindDevice=lo"),
            ):
                e = self.refused(text, direction)
                self.assertEqual(
                    str(e),
                    "tx-host: option 'bindDevice' needs SO_BINDTODEVICE, which "
                    f"this platform ({sys.platform}) does not have; it works on "
                    "Linux",
                )
                self.assertEqual((e.option, e.value), ("bindDevice", "lo"))


class ClassTests(SynchronousTestCase):
    """
    The classes take one L{TCPOptions} and refuse what strings refuse.
    """

    def test_inSettings(self) -> None:
        reactor = MemoryReactorClock()
        options = TCPOptions(noDelay=True, keepCount=3)
        endpoint = TCP4ClientEndpoint(reactor, "example.org", 80, options=options)
        self.assertEqual(
            repr(endpoint),
            "<TCP4ClientEndpoint tx-tcp4:example.org:80:noDelay=yes:keepAlive=yes"
            ":keepCount=3>",
        )
        self.assertEqual(clientFromString(reactor, describe(endpoint)), endpoint)
        self.assertNotEqual(endpoint, TCP4ClientEndpoint(reactor, "example.org", 80))
        server = TCP6ServerEndpoint(reactor, 80, options=TCPOptions(fastOpen=5))
        self.assertEqual(describe(server), "tx-tcp6:80:fastOpen=5")
        self.assertEqual(serverFromString(reactor, describe(server)), server)

    def test_refused(self) -> None:
        reactor = MemoryReactorClock()
        with self.assertRaises(ValueError) as e:
            TCP4ServerEndpoint(reactor, 80, options=TCPOptions(fastOpen=True))
        self.assertIn("fastOpen True is not a queue length", str(e.exception))
        with self.assertRaises(ValueError) as e:
            HostClientEndpoint(reactor, "h", 80, options=TCPOptions(fastOpen=3))
        self.assertIn("fastOpen 3 is not yes or no", str(e.exception))
        with mock.patch.dict(_CONSTANTS, {"TCP_USER_TIMEOUT": None}):
            with self.assertRaises(ValueError) as e:
                HostServerEndpoint(reactor, 80, options=TCPOptions(userTimeout=1))
        self.assertIn("needs TCP_USER_TIMEOUT", str(e.exception))

    def test_bindAddressPerFamily(self) -> None:
        reactor = MemoryReactorClock()
        endpoint = HostClientEndpoint(
            reactor, "h", 80, bindAddress4="10.0.0.1", bindAddress6=("::1", 5)
        )
        self.assertEqual(
            describe(endpoint),
            "tx-host:h:80:bindAddress4=10.0.0.1:bindAddress6=[\\:\\:1]\\:5",
        )
        with self.assertRaises(ValueError) as e:
            HostClientEndpoint(
                reactor, "h", 80, bindAddress="10.0.0.1", bindAddress6="::1"
            )
        self.assertIn("bindAddress and bindAddress6 are both given", str(e.exception))
        with self.assertRaises(ValueError) as e:
            HostClientEndpoint(reactor, "h", 80, bindAddress4="::1")
        self.assertEqual(str(e.exception), "bindAddress4 '::1' is not an IPv4 address")


class ServerTests(SynchronousTestCase):
    """
    A listener with socket options is a socket of our own, with the
    options set before it binds, and a factory that sets the
    per-connection ones on each accepted socket.
    """

    def setUp(self) -> None:
        FakeSocket.reset()
        self.addCleanup(FakeSocket.reset)
        self.patch(_TCPServerEndpoint, "_makeSocket", makeFakeSocket)
        self.reactor = PortReactor()
        self.reactor.installNameResolver(
            FakeResolver(self.reactor, {"both": ["127.0.0.1", "::1"]})
        )
        self.factory = Factory.forProtocol(Protocol)

    def test_listener(self) -> None:
        options = TCPOptions(noDelay=True, receiveBuffer=4096, fastOpen=8)
        self.successResultOf(
            TCP4ServerEndpoint(
                self.reactor, 80, interface="127.0.0.1", options=options
            ).listen(self.factory)
        )
        self.assertEqual(self.reactor.tcpServers, [])
        [sock] = FakeSocket.made
        self.assertEqual(sock.bound, ("127.0.0.1", 80))
        self.assertEqual(sock.option(socket.SOL_SOCKET, socket.SO_RCVBUF), 4096)
        self.assertEqual(sock.option(socket.IPPROTO_TCP, const("TCP_NODELAY")), 1)
        self.assertEqual(sock.option(socket.IPPROTO_TCP, const("TCP_FASTOPEN")), 8)
        [(_, _, factory)] = self.reactor.adoptedPorts
        self.assertIsInstance(factory, ConfiguringFactory)
        assert isinstance(factory, ConfiguringFactory)
        self.assertIs(factory.wrapped, self.factory)

    def test_listenerOnly(self) -> None:
        """
        Options every kernel copies to accepted sockets need no wrapping.
        """
        self.successResultOf(
            TCP4ServerEndpoint(
                self.reactor, 80, options=TCPOptions(sendBuffer=8192)
            ).listen(self.factory)
        )
        [(_, _, factory)] = self.reactor.adoptedPorts
        self.assertIs(factory, self.factory)

    def test_multipath(self) -> None:
        self.successResultOf(
            TCP6ServerEndpoint(
                self.reactor, 80, options=TCPOptions(multipath=True)
            ).listen(self.factory)
        )
        [sock] = FakeSocket.made
        self.assertEqual(sock.proto, const("IPPROTO_MPTCP"))

    def test_everyAddress(self) -> None:
        self.successResultOf(
            HostServerEndpoint(
                self.reactor, 80, interface="both", options=TCPOptions(keepIdle=9)
            ).listen(self.factory)
        )
        self.assertEqual(len(FakeSocket.made), 2)
        for sock in FakeSocket.made:
            self.assertEqual(sock.option(socket.IPPROTO_TCP, const("TCP_KEEPIDLE")), 9)
            self.assertEqual(sock.option(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)

    def test_needsAdoption(self) -> None:
        reactor = TCPOnly()
        failure = self.failureResultOf(
            TCP4ServerEndpoint(
                reactor,  # type: ignore[arg-type]
                80,
                interface="127.0.0.1",
                options=TCPOptions(noDelay=True),
            ).listen(self.factory),
            CannotListenError,
        )
        self.assertIn(
            "socket options needs a reactor that can adopt sockets", str(failure.value)
        )


class ClientTests(SynchronousTestCase):
    """
    Every attempt of a race gets the options.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.reactor.installNameResolver(
            FakeResolver(self.reactor, {"both": ["::1", "127.0.0.1", "::2"]})
        )
        self.made: list[Any] = []
        made = self.made

        class Recording(_socket._Connector):
            def connect(self) -> None:
                made.append(self)

        self.patch(_socket, "canConfigure", lambda reactor: True)
        self.patch(_socket, "_Connector", Recording)

    def test_everyAttempt(self) -> None:
        options = TCPOptions(noDelay=True, bindDevice="lo")
        endpoint = HostClientEndpoint(
            self.reactor,
            "both",
            80,
            bindAddress4=("127.0.0.9", 0),
            bindAddress6="::9",
            options=options,
        )
        d = endpoint.connect(Factory.forProtocol(Protocol))
        for _ in range(4):
            self.reactor.advance(0.25)
        self.assertEqual(
            [(c.host, c.bindAddress) for c in self.made],
            [("::1", ("::9", 0)), ("127.0.0.1", ("127.0.0.9", 0)), ("::2", ("::9", 0))],
        )
        for connector in self.made:
            self.assertEqual(connector.setup.options, options)
        self.assertEqual(self.reactor.tcpClients, [])
        d.cancel()
        self.failureResultOf(d, ConnectingCancelledError)

    def test_plainAttempts(self) -> None:
        """
        Without options, attempts go through C{reactor.connectTCP} as ever.
        """
        TCP4ClientEndpoint(self.reactor, "127.0.0.1", 80).connect(
            Factory.forProtocol(Protocol)
        )
        self.assertEqual(self.made, [])
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_notPosix(self) -> None:
        """
        On a reactor whose sockets we cannot configure, the attempt fails
        with Twisted's L{ConnectError}, saying why.
        """
        self.patch(_socket, "canConfigure", lambda reactor: False)
        d = TCP4ClientEndpoint(
            self.reactor, "127.0.0.1", 80, options=TCPOptions(noDelay=True)
        ).connect(Factory.forProtocol(Protocol))
        failure = self.failureResultOf(d, ConnectError)
        self.assertIn("socket options (noDelay) need a reactor", str(failure.value))

    def test_setupIsAttemptsBindAddress(self) -> None:
        endpoint = TCP4ClientEndpoint(
            self.reactor, "127.0.0.1", 80, options=TCPOptions(keepAlive=True)
        )
        from twisted.internet.address import IPv4Address

        self.assertEqual(
            endpoint._bindFor(IPv4Address("TCP", "127.0.0.1", 80)),
            SocketSetup(None, TCPOptions(keepAlive=True)),
        )


class ReuseWithoutBindingTests(SynchronousTestCase):
    """
    On a Twisted without C{makeBinding} (before 26), client C{reuseAddress}
    and C{reusePort} are set by our connector on a posix reactor, and
    refused, saying why, on any other.
    """

    def setUp(self) -> None:
        from txendpoints._client import _arguments

        self.patch(_arguments, "makeBinding", None)

    def test_posix(self) -> None:
        from twisted.internet import reactor

        endpoint = clientFromString(
            reactor, "tx-tcp4:127.0.0.1:80:bindAddress=127.0.0.1\\:4000:reusePort=yes"
        )
        from twisted.internet.address import IPv4Address

        self.assertEqual(
            endpoint._bindFor(  # type: ignore[attr-defined]
                IPv4Address("TCP", "127.0.0.1", 80)
            ),
            SocketSetup(("127.0.0.1", 4000), TCPOptions(), False, True),
        )

    def test_otherReactor(self) -> None:
        with self.assertRaises(EndpointStringError) as e:
            clientFromString(MemoryReactorClock(), "tx-tcp4:h:80:reuseAddress=yes")
        self.assertEqual(
            str(e.exception),
            "tx-tcp4: reuseAddress needs a Twisted whose connectTCP takes "
            "twisted.internet.tcp.makeBinding or a reactor whose sockets we create "
            "(a posix reactor), and MemoryReactorClock with this Twisted is neither",
        )
        with self.assertRaises(ValueError):
            TCP4ClientEndpoint(MemoryReactorClock(), "h", 80, reusePort=True)
