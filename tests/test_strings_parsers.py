"""
Tests for L{txendpoints._strings._parsers} and the dropin.
"""

from __future__ import annotations

from twisted.internet.endpoints import clientFromString, serverFromString
from twisted.internet.interfaces import IStreamServerEndpointStringParser
from twisted.internet.testing import MemoryReactor
from twisted.plugin import IPlugin, getPlugins
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

import txendpoints
from txendpoints import (
    EndpointStringError,
    HostServerEndpoint,
    TCP4ServerEndpoint,
    TCP6ServerEndpoint,
    describe,
)
from txendpoints._strings._parsers import (
    hostServer,
    serverParsers,
    tcp4Server,
    tcp6Server,
)


class ServerParserTests(SynchronousTestCase):
    """
    Our server parsers are found by Twisted and build our endpoints.
    """

    def test_verify(self) -> None:
        for parser in serverParsers:
            self.assertTrue(verifyObject(IStreamServerEndpointStringParser, parser))
            self.assertTrue(verifyObject(IPlugin, parser))

    def test_getPlugins(self) -> None:
        found = list(getPlugins(IStreamServerEndpointStringParser))
        self.assertIn(tcp4Server, found)
        self.assertIn(tcp6Server, found)
        self.assertIn(hostServer, found)

    def test_serverFromString(self) -> None:
        reactor = MemoryReactor()
        self.assertEqual(
            serverFromString(reactor, "tx-tcp6:8080"),
            TCP6ServerEndpoint(reactor, 8080),
        )
        self.assertEqual(
            serverFromString(reactor, "tx-tcp6:port=8080:interface=\\:\\:1:backlog=10"),
            TCP6ServerEndpoint(reactor, 8080, 10, "::1"),
        )
        self.assertEqual(
            serverFromString(reactor, "tx-tcp4:0:interface=127.0.0.1"),
            TCP4ServerEndpoint(reactor, 0, 50, "127.0.0.1"),
        )

    def test_listenerOptions(self) -> None:
        reactor = MemoryReactor()
        self.assertEqual(
            serverFromString(
                reactor, "tx-tcp6:80:interface=fe80\\:\\:1%lo:ipv6Only=no:reusePort=yes"
            ),
            TCP6ServerEndpoint(
                reactor, 80, interface="fe80::1%lo", ipv6Only=False, reusePort=True
            ),
        )
        self.assertEqual(
            serverFromString(reactor, "tx-tcp4:80:interface=localhost:reusePort=1"),
            TCP4ServerEndpoint(reactor, 80, interface="localhost", reusePort=True),
        )
        self.assertEqual(
            serverFromString(reactor, "tx-host:8080:interface=localhost"),
            HostServerEndpoint(reactor, 8080, interface="localhost"),
        )

    def test_describeRoundTrip(self) -> None:
        reactor = MemoryReactor()
        for description in (
            "tx-host:0",
            "tx-host:80:backlog=5:interface=localhost:ipv6Only=yes:reusePort=yes",
            "tx-tcp6:80:interface=fe80\\:\\:1%2:ipv6Only=no",
            "tx-tcp4:80:interface=example.org:reusePort=yes",
        ):
            self.assertEqual(
                describe(serverFromString(reactor, description)), description
            )

    def test_trailingColon(self) -> None:
        """
        One trailing C{:} is accepted, as Twisted accepts C{stdio:} and
        C{tcp:8080:}, through Twisted's C{serverFromString} and
        C{clientFromString} and ours; L{describe} leaves it out.
        """
        reactor = MemoryReactor()
        for parse in [serverFromString, txendpoints.serverFromString]:
            self.assertEqual(
                parse(reactor, "tx-tcp4:8080:"), TCP4ServerEndpoint(reactor, 8080)
            )
            self.assertEqual(describe(parse(reactor, "tx-tcp6:80:")), "tx-tcp6:80")
            self.assertEqual(
                parse(reactor, "tx-tcp4:port=8080:"), TCP4ServerEndpoint(reactor, 8080)
            )
            self.assertEqual(describe(parse(reactor, "tx-stdio:")), "tx-stdio")
            with self.assertRaises(EndpointStringError):
                parse(reactor, "tx-tcp4:8080::")
        for parseClient in [clientFromString, txendpoints.clientFromString]:
            self.assertEqual(
                describe(parseClient(reactor, "tx-host:example.org:80:")),
                "tx-host:example.org:80",
            )
            self.assertEqual(describe(parseClient(reactor, "tx-stdio:")), "tx-stdio")

    def test_caseInsensitivePrefix(self) -> None:
        reactor = MemoryReactor()
        self.assertEqual(
            serverFromString(reactor, "TX-TCP4:80"), TCP4ServerEndpoint(reactor, 80)
        )

    def test_reactorKeywordIsOurError(self) -> None:
        """
        C{reactor=} in a string is an unknown option, not a C{TypeError}
        about a duplicate argument.
        """
        with self.assertRaises(EndpointStringError) as e:
            serverFromString(MemoryReactor(), "tx-tcp4:80:reactor=x")
        self.assertEqual(e.exception.option, "reactor")
        with self.assertRaises(EndpointStringError):
            serverFromString(MemoryReactor(), "tx-tcp4:80:self=x")

    def test_errorThroughTwisted(self) -> None:
        with self.assertRaises(EndpointStringError) as e:
            serverFromString(MemoryReactor(), "tx-tcp4:http")
        self.assertEqual(
            str(e.exception), "tx-tcp4: port 'http' is not a number from 0 to 65535"
        )

    def test_ipv6OnlyForIPv4Literal(self) -> None:
        """
        C{tx-host} with an IPv4 literal and C{ipv6Only} is rejected when
        parsed: the option would be silently ignored.
        """
        with self.assertRaises(EndpointStringError) as e:
            serverFromString(
                MemoryReactor(), "tx-host:0:interface=127.0.0.1:ipv6Only=yes"
            )
        self.assertEqual(
            str(e.exception),
            "tx-host: option 'ipv6Only' applies to IPv6 addresses, and "
            "interface 127.0.0.1 is an IPv4 address",
        )
        self.assertEqual((e.exception.option, e.exception.value), ("ipv6Only", "yes"))

    def test_repr(self) -> None:
        self.assertEqual(repr(tcp6Server), "<ServerParser tx-tcp6>")
