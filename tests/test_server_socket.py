"""
Tests for L{txendpoints._server._socket}: one address through C{listenTCP}
or an adopted socket.
"""

from __future__ import annotations

import errno
import pickle
import socket

from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactor
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._server import _socket
from txendpoints._server._socket import ListenAddress, listenOn

from ._listenfakes import (
    REUSEADDR,
    REUSEPORT,
    V6ONLY,
    FakeSocket,
    PortReactor,
    TCPOnly,
    makeFakeSocket,
)


class ListenOnTests(SynchronousTestCase):
    """
    L{listenOn} uses C{listenTCP} unless an option needs our own socket,
    which it configures, binds and hands to C{adoptStreamPort}.
    """

    def setUp(self) -> None:
        FakeSocket.reset()
        self.addCleanup(FakeSocket.reset)
        self.reactor = MemoryReactor()
        self.factory = Factory.forProtocol(Protocol)

    def listen(
        self, address: ListenAddress, port: int = 80, reusePort: bool = False
    ) -> IListeningPort:
        return listenOn(
            self.reactor, address, port, self.factory, 7, reusePort, makeFakeSocket
        )

    def test_plain(self) -> None:
        self.listen(ListenAddress("::1", 6))
        self.assertEqual(self.reactor.tcpServers, [(80, self.factory, 7, "::1")])
        self.assertEqual(FakeSocket.made, [])

    def test_ipv6Only(self) -> None:
        for value in (True, False):
            FakeSocket.reset()
            self.listen(ListenAddress("::1", 6, value))
            [sock] = FakeSocket.made
            self.assertEqual(sock.family, socket.AF_INET6)
            self.assertEqual(sock.option(*V6ONLY), int(value))
            self.assertEqual(sock.option(*REUSEADDR), 1)
            self.assertIsNone(sock.option(*REUSEPORT))
            self.assertEqual(sock.bound, ("::1", 80, 0, 0))
            self.assertEqual(sock.backlog, 7)
            self.assertFalse(sock.blocking)
            self.assertTrue(sock.closed)
        self.assertEqual(
            self.reactor.adoptedPorts,
            [(42, socket.AF_INET6, self.factory)] * 2,
        )
        self.assertEqual(self.reactor.tcpServers, [])

    def test_ipv6OnlyIgnoredForIPv4(self) -> None:
        self.listen(ListenAddress("127.0.0.1", 4, True))
        self.assertEqual(self.reactor.tcpServers, [(80, self.factory, 7, "127.0.0.1")])

    def test_reusePort(self) -> None:
        self.listen(ListenAddress("", 4), reusePort=True)
        [sock] = FakeSocket.made
        self.assertEqual(sock.family, socket.AF_INET)
        self.assertEqual(sock.option(*REUSEPORT), 1)
        self.assertIsNone(sock.option(*V6ONLY))
        self.assertEqual(sock.bound, ("0.0.0.0", 80))
        self.assertEqual(
            self.reactor.adoptedPorts, [(42, socket.AF_INET, self.factory)]
        )

    def test_numericZone(self) -> None:
        self.listen(ListenAddress("fe80::1%2", 6))
        [sock] = FakeSocket.made
        self.assertEqual(sock.bound, ("fe80::1", 80, 0, 2))
        self.assertIsNone(sock.option(*V6ONLY))
        self.assertEqual(len(self.reactor.adoptedPorts), 1)

    def test_namedZone(self) -> None:
        index, name = socket.if_nameindex()[0]
        self.listen(ListenAddress(f"fe80::1%{name}", 6))
        self.assertEqual(FakeSocket.made[0].bound, ("fe80::1", 80, 0, index))

    def test_badZone(self) -> None:
        with self.assertRaises(CannotListenError) as e:
            self.listen(ListenAddress("fe80::1%nosuchif0", 6))
        self.assertEqual(
            str(e.exception),
            "Couldn't listen on fe80::1%nosuchif0:80: zone 'nosuchif0' is not a "
            "network interface on this host.",
        )
        self.assertEqual(FakeSocket.made, [])

    def test_zoneNotANumberNorAName(self) -> None:
        """
        A zone that only looks numeric, or that no interface name can be,
        is a L{CannotListenError} too, not a L{ValueError} from C{int()}.
        """
        for zone in ("\N{SUPERSCRIPT TWO}", "a\x00b"):
            with self.assertRaises(CannotListenError) as e:
                self.listen(ListenAddress(f"fe80::1%{zone}", 6))
            self.assertEqual(
                str(e.exception),
                f"Couldn't listen on fe80::1%{zone}:80: zone {zone!r} is not a "
                "network interface on this host.",
            )
        self.assertEqual(FakeSocket.made, [])

    def test_bindFails(self) -> None:
        """
        A bind error becomes a L{CannotListenError} naming the address and
        carrying the OS error; the socket is closed.
        """
        FakeSocket.failBind = OSError(errno.EADDRINUSE, "Address already in use")
        with self.assertRaises(CannotListenError) as e:
            self.listen(ListenAddress("::1", 6, True))
        self.assertEqual(
            str(e.exception),
            "Couldn't listen on ::1:80: [Errno 98] Address already in use.",
        )
        self.assertIs(e.exception.socketError, FakeSocket.failBind)
        self.assertTrue(FakeSocket.made[0].closed)
        self.assertEqual(self.reactor.adoptedPorts, [])

    def test_mappedWithIPv6Only(self) -> None:
        """
        The kernel's bare EINVAL for an IPv4-mapped address with
        C{IPV6_V6ONLY} set is explained; the OS error number is kept.
        """
        FakeSocket.failBind = OSError(errno.EINVAL, "Invalid argument")
        with self.assertRaises(CannotListenError) as e:
            self.listen(ListenAddress("::ffff:127.0.0.1", 6, True))
        self.assertEqual(
            str(e.exception),
            "Couldn't listen on ::ffff:127.0.0.1:80: [Errno 22] Invalid argument: "
            "an IPv4-mapped address cannot be listened on with IPV6_V6ONLY set "
            "(ipv6Only=yes).",
        )
        self.assertEqual(e.exception.socketError.errno, errno.EINVAL)

    def test_otherEINVALUnexplained(self) -> None:
        FakeSocket.failBind = OSError(errno.EINVAL, "Invalid argument")
        for address in (
            ListenAddress("::1", 6, True),
            ListenAddress("::ffff:127.0.0.1", 6, False),
        ):
            with self.assertRaises(CannotListenError) as e:
                self.listen(address)
            self.assertIs(e.exception.socketError, FakeSocket.failBind)

    def test_wildcardsNamed(self) -> None:
        """
        A wildcard on a socket of our own that cannot listen is named with
        its family, where Twisted would say C{any:80} for IPv4 and C{:::80}
        for IPv6; the error's attributes are Twisted's, and it pickles.
        """
        refused = OSError(errno.EADDRINUSE, "Address already in use")
        FakeSocket.failBind = refused
        expected = [
            (ListenAddress("", 4), "0.0.0.0 (every IPv4 interface)"),
            (ListenAddress("0.0.0.0", 4), "0.0.0.0 (every IPv4 interface)"),
            (ListenAddress("::", 6, True), "[::] (every IPv6 interface)"),
            (ListenAddress("::", 6, False), "[::] (every IPv6 and IPv4 interface)"),
        ]
        for address, name in expected:
            with self.assertRaises(CannotListenError) as e:
                self.listen(address, reusePort=True)
            self.assertEqual(
                str(e.exception),
                f"Couldn't listen on {name} port 80: [Errno 98] Address already "
                "in use.",
            )
            self.assertEqual(
                (e.exception.interface, e.exception.port), (address.host, 80)
            )
            self.assertIs(e.exception.socketError, refused)
            copied = pickle.loads(pickle.dumps(e.exception))
            self.assertEqual(str(copied), str(e.exception))

    def test_reactorErrorUnchanged(self) -> None:
        """
        The reactor's own error passes through unchanged, as from Twisted's
        endpoints, even for a wildcard.
        """
        reactor = PortReactor()
        reactor.refuse[("", 80)] = OSError(errno.EADDRINUSE, "in use")
        with self.assertRaises(CannotListenError) as e:
            listenOn(reactor, ListenAddress("", 4), 80, self.factory, 7)
        self.assertIs(type(e.exception), CannotListenError)

    def test_createFails(self) -> None:
        FakeSocket.failCreate = OSError(errno.EAFNOSUPPORT, "no IPv6")
        with self.assertRaises(CannotListenError) as e:
            self.listen(ListenAddress("::1", 6, True))
        self.assertIs(e.exception.socketError, FakeSocket.failCreate)

    def test_noReusePortOnPlatform(self) -> None:
        self.patch(_socket, "_SO_REUSEPORT", None)
        with self.assertRaises(CannotListenError) as e:
            self.listen(ListenAddress("127.0.0.1", 4), reusePort=True)
        self.assertEqual(
            str(e.exception),
            "Couldn't listen on 127.0.0.1:80: reusePort is not supported on "
            "this platform.",
        )
        self.assertEqual(FakeSocket.made, [])

    def test_noIPv6OnlyOnPlatform(self) -> None:
        self.patch(_socket, "_IPV6_V6ONLY", None)
        with self.assertRaises(CannotListenError) as e:
            self.listen(ListenAddress("::1", 6, False))
        self.assertEqual(
            str(e.exception),
            "Couldn't listen on ::1:80: ipv6Only is not supported on this platform.",
        )

    def test_reactorCannotAdopt(self) -> None:
        with self.assertRaises(CannotListenError) as e:
            listenOn(
                TCPOnly(),
                ListenAddress("fe80::1%2", 6, True),
                80,
                self.factory,
                50,
                True,
                makeFakeSocket,
            )
        self.assertEqual(
            str(e.exception),
            "Couldn't listen on fe80::1%2:80: ipv6Only=yes and reusePort=yes and "
            "the zone of fe80::1%2 needs a reactor that can adopt sockets "
            "(IReactorSocket), and TCPOnly cannot.",
        )
        self.assertEqual(FakeSocket.made, [])
