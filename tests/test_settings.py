"""
Tests for L{txendpoints._settings} and for how the string layer maps each
settings class to its spec (L{txendpoints._strings._describe}): no field
of any endpoint's settings can be left out of C{==}, C{hash}, C{repr} or
L{describe}.
"""

from __future__ import annotations

import attrs
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from txendpoints import (
    HostClientEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    clientFromString,
    describe,
)
from txendpoints._settings import Configured, TCP4ServerSettings

try:
    from twisted.internet.tcp import makeBinding
except ImportError:  # pragma: no cover - older Twisted
    makeBinding = None  # type: ignore[assignment]


class ConfiguredTests(SynchronousTestCase):
    """
    L{Configured} derives C{==}, C{hash} and C{repr} from the settings.
    """

    def test_bindingOptionsCompare(self) -> None:
        """
        A C{makeBinding} with C{reusePort} makes an endpoint that differs
        from one without, and says so in its string (the hand-kept option
        list this replaces forgot it).
        """
        if makeBinding is None:
            raise SkipTest("this Twisted has no makeBinding")
        reactor = MemoryReactorClock()
        plain = TCP4ClientEndpoint(
            reactor, "127.0.0.1", 80, bindAddress=makeBinding("127.0.0.1", 5000)
        )
        reusing = TCP4ClientEndpoint(
            reactor,
            "127.0.0.1",
            80,
            bindAddress=makeBinding("127.0.0.1", 5000, reusePort=True),
        )
        self.assertNotEqual(plain, reusing)
        self.assertEqual(
            describe(reusing),
            "tx-tcp4:127.0.0.1:80:bindAddress=127.0.0.1\\:5000:reusePort=yes",
        )
        self.assertEqual(clientFromString(reactor, describe(reusing)), reusing)

    def test_reuseKeywords(self) -> None:
        """
        C{reuseAddress} and C{reusePort} given as keywords reach
        C{connectTCP} as a C{makeBinding}.
        """
        if makeBinding is None:
            raise SkipTest("this Twisted has no makeBinding")
        reactor = MemoryReactorClock()
        endpoint = HostClientEndpoint(
            reactor, "127.0.0.1", 80, bindAddress="127.0.0.1", reuseAddress=True
        )
        endpoint.connect(Factory.forProtocol(Protocol))
        self.assertEqual(
            reactor.tcpClients[0][4], makeBinding("127.0.0.1", 0, reuseAddress=True)
        )

    def test_equalAndHash(self) -> None:
        reactor = MemoryReactorClock()
        a = TCP4ServerEndpoint(reactor, 80, interface="127.0.0.1")
        b = TCP4ServerEndpoint(reactor, 80, interface=b"127.0.0.1")
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        self.assertNotEqual(
            a, TCP4ServerEndpoint(MemoryReactorClock(), 80, 50, "127.0.0.1")
        )
        self.assertNotEqual(a, TCP4ServerEndpoint(reactor, 80, 51, "127.0.0.1"))

    def test_reprWithoutWriter(self) -> None:
        """
        Settings nobody taught to write themselves still give a readable
        C{repr}.
        """

        @attrs.frozen
        class Unknown:
            size: int = 3

        class Endpoint(Configured):
            def __init__(self) -> None:
                self._settings = Unknown()

        self.assertEqual(repr(Endpoint()), "<Endpoint Unknown(size=3)>")

    def test_reprReadsLikeString(self) -> None:
        endpoint = TCP4ServerEndpoint(MemoryReactorClock(), 80, 5)
        self.assertEqual(repr(endpoint), "<TCP4ServerEndpoint tx-tcp4:80:backlog=5>")
        self.assertIsInstance(endpoint._settings, TCP4ServerSettings)


class OldTwistedTests(SynchronousTestCase):
    """
    On a Twisted whose C{connectTCP} takes no C{makeBinding}, the reuse
    options are refused, never silently dropped.
    """

    def test_refused(self) -> None:
        from txendpoints import EndpointStringError
        from txendpoints._client import _arguments

        self.patch(_arguments, "makeBinding", None)
        reactor = MemoryReactorClock()
        error = self.assertRaises(
            EndpointStringError,
            clientFromString,
            reactor,
            "tx-tcp4:example.org:80:reusePort=yes",
        )
        self.assertEqual((error.prefix, error.option), ("tx-tcp4", "reusePort"))
        self.assertIn("makeBinding", str(error))
        self.assertRaises(
            ValueError,
            TCP4ClientEndpoint,
            reactor,
            "example.org",
            80,
            reuseAddress=True,
        )
        # Without them nothing changes.
        clientFromString(reactor, "tx-tcp4:example.org:80:bindAddress=192.0.2.1")
