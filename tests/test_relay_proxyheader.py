"""
Tests for L{txendpoints._relay._proxyheader}: the headers as bytes, and
as Twisted's own PROXY protocol reader (the C{haproxy:} endpoint) reads
them.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IStreamServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.protocols.haproxy import proxyEndpoint
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints._relay._proxyheader import V2_SIGNATURE, proxyHeader

CLIENT4 = IPv4Address("TCP", "192.0.2.7", 5555)
RELAY4 = IPv4Address("TCP", "198.51.100.1", 443)
CLIENT6 = IPv6Address("TCP", "2001:db8::7", 5555)
RELAY6 = IPv6Address("TCP", "2001:db8::1", 443)


@implementer(IStreamServerEndpoint)
class CapturingEndpoint:
    """
    Keeps the factory it is asked to listen with.
    """

    factory: Any = None

    def listen(self, factory: Any) -> Deferred[Any]:
        self.factory = factory
        return Deferred()


class Recorder(Protocol):
    def __init__(self) -> None:
        self.data = b""
        self.seen: tuple[IAddress, IAddress] | None = None

    def dataReceived(self, data: bytes) -> None:
        assert self.transport is not None
        self.seen = (self.transport.getPeer(), self.transport.getHost())
        self.data += data


def normal(address: IAddress) -> tuple[str, object, int]:
    """
    An address with its host in one spelling (Twisted's v2 reader writes
    IPv6 addresses out in full).
    """
    host = getattr(address, "host", "")
    return (
        type(address).__name__,
        ipaddress.ip_address(host),
        getattr(address, "port", 0),
    )


def readByTwisted(header: bytes) -> tuple[tuple[IAddress, IAddress] | None, bytes]:
    """
    Feed C{header} and some bytes to Twisted's C{haproxy:} reader over a
    connection from 203.0.113.5 to 203.0.113.1.

    @return: The peer and host the application saw, and its bytes.
    """
    inner = CapturingEndpoint()
    proxyEndpoint(inner).listen(Factory.forProtocol(Recorder))
    protocol = inner.factory.buildProtocol(IPv4Address("TCP", "203.0.113.5", 1))
    transport = StringTransport(
        hostAddress=IPv4Address("TCP", "203.0.113.1", 2),
        peerAddress=IPv4Address("TCP", "203.0.113.5", 1),
    )
    protocol.makeConnection(transport)
    protocol.dataReceived(header + b"payload")
    assert not transport.disconnecting, "Twisted rejected the header"
    recorder = protocol.wrappedProtocol
    return recorder.seen, recorder.data


class VersionOneTests(SynchronousTestCase):
    def test_ipv4(self) -> None:
        header = proxyHeader(1, CLIENT4, RELAY4)
        self.assertEqual(header, b"PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\n")
        self.assertEqual(readByTwisted(header), ((CLIENT4, RELAY4), b"payload"))

    def test_ipv6(self) -> None:
        header = proxyHeader(1, CLIENT6, RELAY6)
        self.assertEqual(header, b"PROXY TCP6 2001:db8::7 2001:db8::1 5555 443\r\n")
        self.assertEqual(readByTwisted(header), ((CLIENT6, RELAY6), b"payload"))

    def test_mappedIsIPv4(self) -> None:
        header = proxyHeader(
            1,
            IPv6Address("TCP", "::ffff:192.0.2.7", 5555),
            IPv6Address("TCP", "::ffff:198.51.100.1", 443),
        )
        self.assertEqual(header, b"PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\n")

    def test_zoneLeftOut(self) -> None:
        header = proxyHeader(
            1,
            IPv6Address("TCP", "fe80::7%eth0", 5555),
            IPv6Address("TCP", "fe80::1%eth0", 443),
        )
        self.assertEqual(header, b"PROXY TCP6 fe80::7 fe80::1 5555 443\r\n")

    def test_unknown(self) -> None:
        """
        Not IP: C{UNKNOWN}, which Twisted's reader takes as "use the real
        addresses".
        """
        header = proxyHeader(1, UNIXAddress(None), UNIXAddress(b"/s"))
        self.assertEqual(header, b"PROXY UNKNOWN \r\n")
        seen, data = readByTwisted(header)
        self.assertEqual(data, b"payload")
        self.assertEqual(
            seen,
            (
                IPv4Address("TCP", "203.0.113.5", 1),
                IPv4Address("TCP", "203.0.113.1", 2),
            ),
        )


class VersionTwoTests(SynchronousTestCase):
    def test_ipv4(self) -> None:
        header = proxyHeader(2, CLIENT4, RELAY4)
        self.assertEqual(
            header,
            V2_SIGNATURE
            + b"\x21\x11\x00\x0c"
            + bytes([192, 0, 2, 7, 198, 51, 100, 1])
            + b"\x15\xb3\x01\xbb",
        )
        self.assertEqual(readByTwisted(header), ((CLIENT4, RELAY4), b"payload"))

    def test_ipv6(self) -> None:
        header = proxyHeader(2, CLIENT6, RELAY6)
        self.assertEqual(header[:16], V2_SIGNATURE + b"\x21\x21\x00\x24")
        self.assertEqual(len(header), 16 + 36)
        seen, data = readByTwisted(header)
        assert seen is not None
        self.assertEqual([normal(a) for a in seen], [normal(CLIENT6), normal(RELAY6)])
        self.assertEqual(data, b"payload")

    def test_signature(self) -> None:
        self.assertEqual(V2_SIGNATURE, b"\r\n\r\n\x00\r\nQUIT\n")

    def test_unspec(self) -> None:
        """
        Not IP: command PROXY, family and protocol UNSPEC, no addresses.
        """
        header = proxyHeader(2, object(), object())
        self.assertEqual(header, V2_SIGNATURE + b"\x21\x00\x00\x00")
        seen, data = readByTwisted(header)
        self.assertEqual(data, b"payload")
        self.assertEqual(
            seen[0] if seen else None, IPv4Address("TCP", "203.0.113.5", 1)
        )

    def test_mixedFamilies(self) -> None:
        """
        One IPv4 address and one IPv6 one (which a socket never gives):
        both as IPv6.
        """
        header = proxyHeader(2, CLIENT4, RELAY6)
        self.assertEqual(header[13:14], b"\x21")
        seen, _ = readByTwisted(header)
        assert seen is not None
        self.assertEqual(
            [normal(a) for a in seen],
            [normal(IPv6Address("TCP", "::ffff:192.0.2.7", 5555)), normal(RELAY6)],
        )
