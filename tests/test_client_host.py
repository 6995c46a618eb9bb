"""
Tests for L{txendpoints._client._host}: C{tx-host}, Happy Eyeballs over both
families.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import HostnameAddress, IPv4Address, IPv6Address
from twisted.internet.error import (
    ConnectingCancelledError,
    DNSLookupError,
    TimeoutError,
)
from twisted.trial.unittest import SkipTest

try:
    from twisted.internet.tcp import makeBinding
except ImportError:  # older Twisted
    makeBinding = None  # type: ignore[assignment]

from txendpoints import (
    ConnectAttemptsError,
    HostClientEndpoint,
    describe,
)

from .test_client_endpoints import ClientTestCase
from .test_client_race import accept, refuse


class HappyEyeballsTests(ClientTestCase):
    """
    L{HostClientEndpoint} implements RFC 8305.
    """

    def delays(self) -> dict[Any, float]:
        return {
            ("a-first.example", 6): 0.03,
            ("late-aaaa.example", 6): 0.2,
            ("late-a.example", 4): 0.2,
            "slow.example": 2.0,
        }

    def setUp(self) -> None:
        super().setUp()
        both = ["2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"]
        for name in ("a-first.example", "late-aaaa.example", "late-a.example"):
            self.resolver._answers[name] = both
        self.resolver._answers["slow.example"] = both

    def connect(self, host: str = "example.org", **kw: Any) -> Any:
        return HostClientEndpoint(self.reactor, host, 80, **kw).connect(self.factory)

    def finish(self, d: Any) -> None:
        d.cancel()
        self.failureResultOf(d, ConnectingCancelledError)

    def test_concurrentQueries(self) -> None:
        d = self.connect("slow.example")
        self.assertEqual(
            [r.addressTypes for r in self.resolver.resolutions],
            [(IPv6Address,), (IPv4Address,)],
        )
        self.finish(d)
        self.assertTrue(all(r.cancelled for r in self.resolver.resolutions))

    def test_interleaved(self) -> None:
        d = self.connect()
        for _ in range(3):
            self.reactor.advance(0.25)
        self.assertEqual(
            self.hosts(), ["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"]
        )
        self.finish(d)
        self.assertTrue(all(c.stoppedConnecting for c in self.reactor.connectors))

    def test_preferIPv4(self) -> None:
        d = self.connect(preferIPv6=False)
        self.assertEqual(
            [r.addressTypes for r in self.resolver.resolutions],
            [(IPv4Address,), (IPv6Address,)],
        )
        self.reactor.advance(0.25)
        self.assertEqual(self.hosts(), ["192.0.2.1", "2001:db8::1"])
        self.finish(d)

    def test_aWithinResolutionDelay(self) -> None:
        d = self.connect("a-first.example")
        self.reactor.advance(0.029)
        self.assertEqual(self.hosts(), [])
        self.reactor.advance(0.001)
        self.assertEqual(self.hosts(), ["2001:db8::1"])
        self.reactor.advance(0.25)
        self.assertEqual(self.hosts(), ["2001:db8::1", "192.0.2.1"])
        self.finish(d)

    def test_aBeyondResolutionDelay(self) -> None:
        """
        IPv4 starts after the resolution delay; a late AAAA answer joins the
        list, alternating with the family tried last.
        """
        d = self.connect("late-aaaa.example")
        self.reactor.advance(0.049)
        self.assertEqual(self.hosts(), [])
        self.reactor.advance(0.001)
        self.assertEqual(self.hosts(), ["192.0.2.1"])
        self.reactor.advance(0.15)
        self.assertEqual(self.hosts(), ["192.0.2.1"])
        self.reactor.advance(0.1)
        self.assertEqual(self.hosts(), ["192.0.2.1", "2001:db8::1"])
        self.reactor.advance(0.25)
        self.reactor.advance(0.25)
        self.assertEqual(
            self.hosts(), ["192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2"]
        )
        self.finish(d)

    def test_aaaaFirstStartsAtOnce(self) -> None:
        d = self.connect("late-a.example")
        self.assertEqual(self.hosts(), ["2001:db8::1"])
        self.reactor.advance(0.2)
        self.assertEqual(self.hosts(), ["2001:db8::1"])
        self.reactor.advance(0.05)
        self.assertEqual(self.hosts(), ["2001:db8::1", "192.0.2.1"])
        self.finish(d)

    def test_onlyOneFamily(self) -> None:
        d = self.connect("v4.example")
        self.assertEqual(self.hosts(), ["192.0.2.1"])
        self.finish(d)
        d = self.connect("v6.example")
        self.assertEqual(self.hosts()[1:], ["2001:db8::1"])
        self.finish(d)

    def test_neither(self) -> None:
        d = self.connect("nothing.example")
        self.assertEqual(
            str(self.failureResultOf(d, DNSLookupError).value),
            "DNS lookup failed: nothing.example has no IPv6 or IPv4 address.",
        )

    def test_refusalsMoveOn(self) -> None:
        d = self.connect()
        for i in range(4):
            self.assertEqual(len(self.hosts()), i + 1)
            refuse(self.reactor, i)
        error = self.failureResultOf(d, ConnectAttemptsError).value
        self.assertEqual(len(error.failures), 4)
        self.assertEqual(self.reactor.seconds(), 0)

    def test_cancelWhileWaitingForTheOtherFamily(self) -> None:
        """
        Cancelling when every attempt so far has failed and the A answer is
        still to come cancels that query.
        """
        d = self.connect("late-a.example")
        refuse(self.reactor, 0)
        refuse(self.reactor, 1)
        self.assertNoResult(d)
        d.cancel()
        self.failureResultOf(d, ConnectingCancelledError)
        self.assertEqual(
            [r.cancelled for r in self.resolver.resolutions], [False, True]
        )
        self.assertEqual(len(self.hosts()), 2)

    def test_lateAnswerAfterFailures(self) -> None:
        """
        Addresses that arrive when every earlier attempt has failed start at
        once, and the error lists the attempts of both families.
        """
        d = self.connect("late-a.example")
        refuse(self.reactor, 0)
        refuse(self.reactor, 1)
        self.reactor.advance(0.2)
        self.assertEqual(self.hosts()[2:], ["192.0.2.1"])
        refuse(self.reactor, 2)
        self.assertEqual(self.hosts()[3:], ["192.0.2.2"])
        refuse(self.reactor, 3)
        error = self.failureResultOf(d, ConnectAttemptsError).value
        self.assertEqual(
            [a.host for a, f in error.failures],
            ["2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"],
        )

    def test_synchronousWinStopsTheOtherQuery(self) -> None:
        """
        When the race is won while the first query's answer is delivered
        (a reactor that connects at once), the other family's query is
        still cancelled and leaves nothing scheduled.
        """
        original = self.reactor.connectTCP

        def connectTCP(*args: Any, **kwargs: Any) -> Any:
            connector = original(*args, **kwargs)
            accept(self.reactor, len(self.reactor.connectors) - 1)
            return connector

        self.reactor.connectTCP = connectTCP  # type: ignore[method-assign]
        d = self.connect("late-a.example")
        self.successResultOf(d)
        self.assertEqual(self.hosts(), ["2001:db8::1"])
        self.assertEqual(
            [r.cancelled for r in self.resolver.resolutions], [False, True]
        )

    def test_winnerStopsOthers(self) -> None:
        d = self.connect()
        self.reactor.advance(0.25)
        accept(self.reactor, 1)
        self.successResultOf(d)
        self.assertEqual(
            [c.stoppedConnecting for c in self.reactor.connectors], [True, False]
        )

    def test_cancelDuringResolutionDelay(self) -> None:
        d = self.connect("late-aaaa.example")
        self.reactor.advance(0.01)
        d.cancel()
        error = self.failureResultOf(d, ConnectingCancelledError).value
        self.assertEqual(error.address, HostnameAddress(b"late-aaaa.example", 80))
        self.assertTrue(self.resolver.resolutions[0].cancelled)
        self.assertEqual(self.hosts(), [])

    def test_deadline(self) -> None:
        d = self.connect("slow.example", timeout=1.5)
        self.reactor.advance(1.5)
        self.failureResultOf(d, TimeoutError)
        self.assertTrue(all(r.cancelled for r in self.resolver.resolutions))

    def test_bindAddressFamily(self) -> None:
        d = self.connect(bindAddress="192.0.2.100")
        self.assertEqual(
            [r.addressTypes for r in self.resolver.resolutions], [(IPv4Address,)]
        )
        self.assertEqual(self.reactor.tcpClients[0][4], ("192.0.2.100", 0))
        self.finish(d)
        d = self.connect("v6.example", bindAddress="192.0.2.100")
        self.assertEqual(
            str(self.failureResultOf(d, DNSLookupError).value),
            "DNS lookup failed: v6.example has no IPv4 address, and "
            "bindAddress 192.0.2.100 allows IPv4 only.",
        )

    def test_bindAddressBindingFamily(self) -> None:
        """
        A C{makeBinding} result restricts the attempts to its family, like a
        host or tuple C{bindAddress}.
        """
        if makeBinding is None:
            raise SkipTest("this Twisted has no makeBinding")
        binding = makeBinding("192.0.2.100", 0)
        d = self.connect(bindAddress=binding)
        self.assertEqual(
            [r.addressTypes for r in self.resolver.resolutions], [(IPv4Address,)]
        )
        self.assertIs(self.reactor.tcpClients[0][4], binding)
        self.finish(d)

    def test_attemptDelayNone(self) -> None:
        """
        C{attemptDelay=None}, Twisted's C{HostnameEndpoint} default, means
        our default.
        """
        endpoint = HostClientEndpoint(
            self.reactor, "example.org", 80, attemptDelay=None
        )
        self.assertEqual(describe(endpoint), "tx-host:example.org:80")
        d = endpoint.connect(self.factory)
        self.assertEqual(self.hosts(), ["2001:db8::1"])
        self.reactor.advance(0.25)
        self.assertEqual(self.hosts(), ["2001:db8::1", "192.0.2.1"])
        self.finish(d)

    def test_textNotIDNA(self) -> None:
        """
        A text host that has no IDNA form fails C{connect}'s Deferred with
        a L{ValueError} naming it escaped, as Twisted's C{HostnameEndpoint}
        does, instead of raising L{UnicodeError} from C{connect}.
        """
        d = self.connect("\u2ff0-garbage-\u2ff0")
        error = self.failureResultOf(d, ValueError).value
        self.assertEqual(str(error), "invalid host name: \\u2ff0-garbage-\\u2ff0")
        self.assertEqual(self.resolver.resolutions, [])

    def test_literal(self) -> None:
        d = self.connect("2001:db8::5")
        self.assertEqual(self.resolver.resolutions, [])
        self.assertEqual(self.hosts(), ["2001:db8::5"])
        self.finish(d)
        d = self.connect("2001:db8::5", bindAddress="127.0.0.1")
        self.failureResultOf(d, DNSLookupError)
