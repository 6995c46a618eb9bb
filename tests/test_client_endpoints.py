"""
Tests for the TCP client endpoints in L{txendpoints._client._endpoints}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.endpoints import clientFromString
from twisted.internet.error import (
    ConnectingCancelledError,
    ConnectionRefusedError,
    DNSLookupError,
    TimeoutError,
)
from twisted.internet.interfaces import (
    IStreamClientEndpoint,
    IStreamClientEndpointStringParserWithReactor,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase
from zope.interface.verify import verifyObject

try:
    from twisted.internet.tcp import makeBinding
except ImportError:  # older Twisted
    makeBinding = None  # type: ignore[assignment]

from txendpoints import (
    ConnectAttemptsError,
    EndpointStringError,
    HostClientEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    describe,
)
from txendpoints._strings._parsers import hostClient, tcp4Client, tcp6Client
from txendpoints.testing import FakeResolver, SimulatedNetwork

from .test_client_race import accept, refuse

ANSWERS = {
    "example.org": ["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"],
    "v4.example": ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    "v6.example": ["2001:db8::1", "2001:db8::2"],
    "bücher.example": ["192.0.2.9"],
}


class ClientTestCase(SynchronousTestCase):
    """
    A reactor with a fake resolver, and a check that nothing is left
    scheduled after each test.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.resolver = FakeResolver(self.reactor, ANSWERS, self.delays())
        self.reactor.installNameResolver(self.resolver)
        self.factory = Factory.forProtocol(Protocol)

    def delays(self) -> dict[Any, float]:
        return {"slow.example": 2.0}

    def tearDown(self) -> None:
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def hosts(self) -> list[str]:
        return [client[0] for client in self.reactor.tcpClients]


class SingleFamilyTests(ClientTestCase):
    """
    L{TCP4ClientEndpoint} and L{TCP6ClientEndpoint} resolve through the
    reactor within their family and try every address.
    """

    def test_provides(self) -> None:
        for cls in (TCP4ClientEndpoint, TCP6ClientEndpoint, HostClientEndpoint):
            self.assertTrue(
                verifyObject(IStreamClientEndpoint, cls(self.reactor, "h", 1))
            )
        for parser in (tcp4Client, tcp6Client, hostClient):
            self.assertTrue(
                verifyObject(IStreamClientEndpointStringParserWithReactor, parser)
            )

    def test_literalSkipsResolution(self) -> None:
        endpoint = TCP6ClientEndpoint(self.reactor, "fe80::1%lo", 80, 5, "::1")
        d = endpoint.connect(self.factory)
        self.assertEqual(self.resolver.resolutions, [])
        self.assertEqual(
            [c[:2] + c[3:] for c in self.reactor.tcpClients],
            [("fe80::1%lo", 80, 5, ("::1", 0))],
        )
        accept(self.reactor, 0)
        self.assertIsInstance(self.successResultOf(d), Protocol)

    def test_bracketedLiteral(self) -> None:
        d = TCP6ClientEndpoint(self.reactor, "[::1]", 80).connect(self.factory)
        self.assertEqual(self.hosts(), ["::1"])
        refuse(self.reactor, 0)
        self.failureResultOf(d, ConnectionRefusedError)

    def test_familyOnly(self) -> None:
        d = TCP6ClientEndpoint(self.reactor, "example.org", 80).connect(self.factory)
        self.assertEqual(self.resolver.resolutions[0].addressTypes, (IPv6Address,))
        self.assertEqual(self.hosts(), ["2001:db8::1"])
        self.reactor.advance(0.25)
        self.assertEqual(self.hosts(), ["2001:db8::1", "2001:db8::2"])
        accept(self.reactor, 0)
        self.successResultOf(d)
        self.assertTrue(self.reactor.connectors[1].stoppedConnecting)

    def test_staggerToTheMillisecond(self) -> None:
        endpoint = TCP4ClientEndpoint(self.reactor, "v4.example", 80, attemptDelay=0.1)
        d = endpoint.connect(self.factory)
        self.assertEqual(len(self.hosts()), 1)
        self.reactor.advance(0.099)
        self.assertEqual(len(self.hosts()), 1)
        self.reactor.advance(0.001)
        self.assertEqual(len(self.hosts()), 2)
        refuse(self.reactor, 1)
        self.assertEqual(self.hosts(), ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        refuse(self.reactor, 0)
        refuse(self.reactor, 2)
        error = self.failureResultOf(d, ConnectAttemptsError).value
        self.assertEqual(
            [a.host for a, f in error.failures],
            ["192.0.2.2", "192.0.2.1", "192.0.2.3"],
        )
        self.assertIn("all 3 addresses of v4.example port 80 failed", str(error))

    def test_attemptDelayClamped(self) -> None:
        endpoint = TCP4ClientEndpoint(self.reactor, "v4.example", 80, attemptDelay=9)
        d = endpoint.connect(self.factory)
        self.reactor.advance(2)
        self.assertEqual(len(self.hosts()), 2)
        d.cancel()
        self.failureResultOf(d, ConnectingCancelledError)

    def test_singleFailureUnchanged(self) -> None:
        d = TCP4ClientEndpoint(self.reactor, "127.0.0.1", 80).connect(self.factory)
        refuse(self.reactor, 0)
        self.assertIs(type(self.failureResultOf(d).value), ConnectionRefusedError)

    def test_noAddressInFamily(self) -> None:
        d = TCP6ClientEndpoint(self.reactor, "v4.example", 80).connect(self.factory)
        self.assertEqual(
            str(self.failureResultOf(d, DNSLookupError).value),
            "DNS lookup failed: v4.example has no IPv6 address.",
        )

    def test_wrongFamilyLiteral(self) -> None:
        d = TCP4ClientEndpoint(self.reactor, "::1", 80).connect(self.factory)
        self.assertEqual(
            str(self.failureResultOf(d, DNSLookupError).value),
            "DNS lookup failed: ::1 is an IPv6 address; tx-tcp4 connects over "
            "IPv4 only.",
        )
        self.assertEqual(self.reactor.tcpClients, [])

    def test_idnaBytes(self) -> None:
        d = TCP4ClientEndpoint(self.reactor, b"xn--bcher-kva.example", 80).connect(
            self.factory
        )
        self.assertEqual(self.resolver.resolutions[0].name, "bücher.example")
        self.assertEqual(self.hosts(), ["192.0.2.9"])
        accept(self.reactor, 0)
        self.successResultOf(d)

    def test_badBytes(self) -> None:
        d = TCP4ClientEndpoint(self.reactor, b"\xff.example", 80).connect(self.factory)
        self.assertIn(
            "invalid host name", str(self.failureResultOf(d, ValueError).value)
        )

    def test_bindAddressForms(self) -> None:
        forms: list[tuple[Any, tuple[str, int]]] = [
            ("127.0.0.1", ("127.0.0.1", 0)),
            (b"127.0.0.1", ("127.0.0.1", 0)),
            ((b"127.0.0.1", 5000), ("127.0.0.1", 5000)),
            (("", 5000), ("", 5000)),
        ]
        for given, expected in forms:
            d = TCP4ClientEndpoint(
                self.reactor, "127.0.0.1", 80, bindAddress=given
            ).connect(self.factory)
            self.assertEqual(self.reactor.tcpClients[-1][4], expected)
            refuse(self.reactor, -1)
            self.failureResultOf(d, ConnectionRefusedError)

    def test_bindAddressBinding(self) -> None:
        """
        A C{makeBinding} result, which Twisted 26's endpoints accept, reaches
        C{connectTCP} unchanged (its socket options are the reactor's to
        apply) and describes as its host and port.
        """
        if makeBinding is None:
            raise SkipTest("this Twisted has no makeBinding")
        binding = makeBinding("127.0.0.1", 5000, reuseAddress=True)
        endpoint = TCP4ClientEndpoint(
            self.reactor, "127.0.0.1", 80, bindAddress=binding
        )
        self.assertIn("bindAddress=127.0.0.1\\:5000", describe(endpoint))
        d = endpoint.connect(self.factory)
        self.assertIs(self.reactor.tcpClients[-1][4], binding)
        refuse(self.reactor, -1)
        self.failureResultOf(d, ConnectionRefusedError)

    def test_connectNeverRaises(self) -> None:
        """
        A reactor that cannot even start the race fails the Deferred rather
        than raising from C{connect}.
        """
        for cls in (TCP4ClientEndpoint, TCP6ClientEndpoint, HostClientEndpoint):
            d = cls(object(), "h.example", 80).connect(self.factory)
            # Without a clock there is no deadline timer to fail on; the
            # missing nameResolver is what stops it, and says so.
            self.failureResultOf(d, DNSLookupError)

    def test_noNameResolver(self) -> None:
        """
        A host name with a reactor that has no C{nameResolver} fails with a
        L{DNSLookupError} saying so; an address literal needs none.
        """
        clock = Clock()
        for cls in (TCP4ClientEndpoint, TCP6ClientEndpoint, HostClientEndpoint):
            d = cls(clock, "h.example", 80).connect(self.factory)
            self.assertEqual(
                str(self.failureResultOf(d, DNSLookupError).value),
                "DNS lookup failed: h.example is a host name, which needs a "
                "reactor with a nameResolver (IReactorPluggableNameResolver), "
                "and Clock has none.",
            )
        self.assertEqual(clock.getDelayedCalls(), [])
        reactor = self.reactor
        del reactor.nameResolver
        d = TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(self.factory)
        self.assertEqual(self.hosts(), ["127.0.0.1"])
        refuse(reactor, 0)
        self.failureResultOf(d, ConnectionRefusedError)

    def test_deadlineIncludesResolution(self) -> None:
        d = TCP4ClientEndpoint(self.reactor, "slow.example", 80, timeout=1).connect(
            self.factory
        )
        self.reactor.advance(1)
        error = self.failureResultOf(d, TimeoutError).value
        self.assertIn("connecting to slow.example port 80", str(error))
        self.assertTrue(self.resolver.resolutions[0].cancelled)

    def test_cancelWhileResolving(self) -> None:
        d = TCP6ClientEndpoint(self.reactor, "slow.example", 80).connect(self.factory)
        d.cancel()
        error = self.failureResultOf(d, ConnectingCancelledError).value
        self.assertEqual(error.address, IPv6Address("TCP", "slow.example", 80))
        self.assertTrue(self.resolver.resolutions[0].cancelled)

    def test_cancelBetweenAttempts(self) -> None:
        d = TCP4ClientEndpoint(self.reactor, "v4.example", 80).connect(self.factory)
        self.reactor.advance(0.1)
        refuse(self.reactor, 0)
        self.reactor.advance(0.1)
        d.cancel()
        error = self.failureResultOf(d, ConnectingCancelledError).value
        self.assertEqual(error.address, IPv4Address("TCP", "v4.example", 80))
        self.assertEqual(
            [c.stoppedConnecting for c in self.reactor.connectors], [False, True]
        )

    def test_reprAndDescribe(self) -> None:
        endpoint = TCP6ClientEndpoint(
            self.reactor, "::1", 8080, timeout=5, bindAddress=("::1", 9000)
        )
        self.assertEqual(
            repr(endpoint),
            "<TCP6ClientEndpoint tx-tcp6:\\:\\:1:8080:timeout=5:"
            "bindAddress=[\\:\\:1]\\:9000>",
        )
        again = clientFromString(self.reactor, describe(endpoint))
        self.assertEqual(again, endpoint)
        self.assertEqual(
            describe(TCP4ClientEndpoint(self.reactor, b"localhost", 80)),
            "tx-tcp4:localhost:80",
        )


class StringTests(ClientTestCase):
    """
    The client strings build the endpoints.
    """

    def test_strings(self) -> None:
        cases: list[tuple[str, Any]] = [
            ("tx-tcp6:\\:\\:1:8080", TCP6ClientEndpoint(self.reactor, "::1", 8080)),
            (
                "tx-tcp6:host=example.org:port=443",
                TCP6ClientEndpoint(self.reactor, "example.org", 443),
            ),
            (
                "tx-tcp4:localhost:80:timeout=5:bindAddress=127.0.0.1",
                TCP4ClientEndpoint(self.reactor, "localhost", 80, 5, "127.0.0.1"),
            ),
            (
                "tx-host:example.org:443:attemptDelay=0.1:resolutionDelay=0"
                ":preferIPv6=no",
                HostClientEndpoint(
                    self.reactor,
                    "example.org",
                    443,
                    attemptDelay=0.1,
                    resolutionDelay=0,
                    preferIPv6=False,
                ),
            ),
        ]
        for string, expected in cases:
            endpoint = clientFromString(self.reactor, string)
            self.assertEqual(endpoint, expected)
            self.assertEqual(
                clientFromString(self.reactor, describe(endpoint)), endpoint
            )

    def test_errors(self) -> None:
        for string, message in [
            (
                "tx-tcp4:\\:\\:1:80",
                "tx-tcp4: host '::1' is an IPv6 address, but this endpoint "
                "needs an IPv4 address",
            ),
            (
                "tx-tcp6:h:80:bindAddress=127.0.0.1",
                "tx-tcp6: bindAddress '127.0.0.1' is an IPv4 address, but this "
                "endpoint needs an IPv6 address",
            ),
            (
                "tx-host:h:80:bindAddress=h\\:x",
                "tx-host: bindAddress 'h:x' has a port that is not a number "
                "from 0 to 65535",
            ),
            ("tx-host:h:80:attemptDelay=-1", "tx-host: attemptDelay '-1' is not"),
            ("tx-host:h", "tx-host: port is required"),
        ]:
            with self.assertRaises(EndpointStringError) as caught:
                clientFromString(self.reactor, string)
            self.assertTrue(str(caught.exception).startswith(message), message)


V6 = [f"2001:db8::{i}" for i in range(1, 6)]
V4 = [f"192.0.2.{i}" for i in range(1, 6)]


class SimulatedNetworkTests(SynchronousTestCase):
    """
    On a L{SimulatedNetwork}, whose connectors behave like Twisted's (a
    stopped attempt reports its failure at once, each has its own timeout),
    dead addresses cost one attempt delay each if silent and nothing if
    they refuse.
    """

    def connectAt(
        self,
        endpointClass: Any,
        answers: list[str],
        outcomes: dict[str, Any],
        delays: dict[Any, float] | None = None,
    ) -> tuple[float, Any]:
        """
        Connect to C{h.example}, which resolves to C{answers}.

        @return: The time of connection and the peer address.
        """
        network = SimulatedNetwork(outcomes)
        network.installNameResolver(
            FakeResolver(network, {"h.example": answers}, delays)
        )
        d = endpointClass(network, "h.example", 80).connect(
            Factory.forProtocol(Protocol)
        )
        network.runUntil(d)
        proto = self.successResultOf(d)
        self.assertEqual(network.getDelayedCalls(), [])
        # No connector is left running: one won, the others ended.
        self.assertEqual(
            sorted(c.state for c in network.connectors),
            ["connected"] + ["disconnected"] * (len(network.connectors) - 1),
        )
        return round(network.seconds(), 6), proto.transport.getPeer()

    def test_singleFamily(self) -> None:
        for k in range(5):
            for what, expected in [
                ("silent", 0.25 * k + 0.01),
                ("refuse", 0.01 * k + 0.01),
            ]:
                outcomes: dict[str, Any] = {V6[k]: ("accept", 0.01)}
                if what == "refuse":
                    outcomes.update({host: ("refuse", 0.01) for host in V6[:k]})
                when, peer = self.connectAt(TCP6ClientEndpoint, V6, outcomes)
                self.assertEqual(
                    (when, peer.host), (round(expected, 6), V6[k]), (k, what)
                )

    def test_happyEyeballs(self) -> None:
        cases: list[
            tuple[str, list[str], dict[str, Any], dict[Any, float], float, str]
        ] = [
            # IPv6 black-holed: IPv4 goes second, one attempt delay in.
            ("dead IPv6", V6[:3] + V4[:1], {V4[0]: ("accept", 0.01)}, {}, 0.26, V4[0]),
            # IPv6 refused: straight on to IPv4.
            (
                "refused IPv6",
                V6[:3] + V4[:1],
                {V6[0]: ("refuse", 0.01), V4[0]: ("accept", 0.01)},
                {},
                0.02,
                V4[0],
            ),
            # AAAA slow: IPv4 starts after the resolution delay.
            (
                "slow AAAA",
                V6[:1] + V4[:1],
                {V4[0]: ("accept", 0.01)},
                {("h.example", 6): 1.0},
                0.06,
                V4[0],
            ),
            # AAAA a little late: IPv6 is still preferred.
            (
                "AAAA within delay",
                V6[:1] + V4[:1],
                {V6[0]: ("accept", 0.01), V4[0]: ("accept", 0.01)},
                {("h.example", 6): 0.02},
                0.03,
                V6[0],
            ),
        ]
        for name, answers, outcomes, delays, expected, host in cases:
            when, peer = self.connectAt(HostClientEndpoint, answers, outcomes, delays)
            self.assertEqual((when, peer.host), (expected, host), name)
