"""
Tests for L{txendpoints._strings._clients}: a listening port as the client
strings that reach it.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress, IListeningPort
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txendpoints import ListeningPorts, clientFromString, clientStrings
from txendpoints._stdio._transport import PipeAddress
from txendpoints._strings._clients import addressClientString


@implementer(IListeningPort)
class FakePort:
    """
    A port of one address, as Twisted's TCP and UNIX ports are.
    """

    def __init__(self, address: IAddress) -> None:
        self.address = address

    def getHost(self) -> IAddress:
        return self.address

    def startListening(self) -> None:
        pass

    def stopListening(self) -> None:
        pass


def reached(text: str) -> tuple[str, int]:
    """
    Where a client string connects, as its endpoint says.
    """
    endpoint = clientFromString(MemoryReactorClock(), text)
    settings = endpoint._settings  # type: ignore[attr-defined]
    return settings.host, settings.port


class AddressClientStringTests(SynchronousTestCase):
    """
    One address, one client string.
    """

    def test_ipv4(self) -> None:
        text = addressClientString(IPv4Address("TCP", "127.0.0.1", 8080))
        self.assertEqual(text, "tx-tcp4:127.0.0.1:8080")
        self.assertEqual(reached(text), ("127.0.0.1", 8080))

    def test_ipv6IsEscaped(self) -> None:
        """
        Each colon of an IPv6 literal is escaped, so that the string parses
        back to the same address.
        """
        text = addressClientString(IPv6Address("TCP", "2001:db8::5", 443))
        self.assertEqual(text, "tx-tcp6:2001\\:db8\\:\\:5:443")
        self.assertEqual(reached(text), ("2001:db8::5", 443))

    def test_zoneKept(self) -> None:
        """
        A link-local address keeps its zone, whether the host carries it or
        only C{scopeID} does.
        """
        text = addressClientString(IPv6Address("TCP", "fe80::1", 22, 0, "eth0"))
        self.assertEqual(text, "tx-tcp6:fe80\\:\\:1%eth0:22")
        self.assertEqual(
            addressClientString(IPv6Address("TCP", "fe80::1%eth0", 22)), text
        )

    def test_wildcardsBecomeLoopback(self) -> None:
        """
        A port bound to every address of a family is reached on this host
        at the family's loopback address.
        """
        self.assertEqual(
            addressClientString(IPv4Address("TCP", "0.0.0.0", 80)),
            "tx-tcp4:127.0.0.1:80",
        )
        self.assertEqual(
            addressClientString(IPv6Address("TCP", "::", 80)),
            "tx-tcp6:\\:\\:1:80",
        )

    def test_unix(self) -> None:
        self.assertEqual(
            addressClientString(UNIXAddress(b"/run/a:b.sock")),
            "unix:/run/a\\:b.sock",
        )

    def test_unreachable(self) -> None:
        """
        Addresses that no client string reaches are a L{ValueError} that
        shows the address.
        """
        for address in (
            PipeAddress(),
            IPv4Address("UDP", "127.0.0.1", 53),
            UNIXAddress(b"\0abstract"),
            UNIXAddress(None),
        ):
            with self.assertRaises(ValueError) as caught:
                addressClientString(address)
            self.assertIn(repr(address), str(caught.exception))


class ClientStringsTests(SynchronousTestCase):
    """
    L{clientStrings} gives one string per bound address.
    """

    def test_twistedPort(self) -> None:
        port = FakePort(IPv4Address("TCP", "127.0.0.1", 4321))
        self.assertEqual(clientStrings(port), ["tx-tcp4:127.0.0.1:4321"])

    def test_listeningPorts(self) -> None:
        """
        Every address of a L{ListeningPorts}, in its order, repeats left
        out.
        """
        ports = ListeningPorts(
            [
                FakePort(IPv4Address("TCP", "127.0.0.1", 4321)),
                FakePort(IPv6Address("TCP", "::1", 4321)),
                FakePort(IPv4Address("TCP", "127.0.0.1", 4321)),
            ]
        )
        self.assertEqual(
            clientStrings(ports),
            ["tx-tcp4:127.0.0.1:4321", "tx-tcp6:\\:\\:1:4321"],
        )

    def test_stdioPort(self) -> None:
        with self.assertRaises(ValueError):
            clientStrings(FakePort(PipeAddress()))
