"""
Tests for L{txendpoints._client._arguments}: hosts and C{bindAddress} in
every form Twisted's client endpoints take them.
"""

from __future__ import annotations

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from txendpoints._client._arguments import (
    _bindPair,
    _bindTuple,
    _hostText,
    binding,
    canReuseBinding,
)

try:
    from twisted.internet.tcp import makeBinding
except ImportError:  # pragma: no cover - older Twisted
    makeBinding = None  # type: ignore[assignment]


class HostTextTests(SynchronousTestCase):
    def test_forms(self) -> None:
        self.assertEqual(_hostText("example.org"), "example.org")
        self.assertEqual(_hostText(b"xn--bcher-kva.example"), "bücher.example")
        self.assertEqual(_hostText("[::1]"), "::1")
        # NFC, as IDNA would give it.
        self.assertEqual(_hostText("bu\u0308cher.example"), "bücher.example")

    def test_badBytes(self) -> None:
        self.assertRaises(ValueError, _hostText, b"\xff.example")


class BindAddressTests(SynchronousTestCase):
    def test_forms(self) -> None:
        self.assertIsNone(_bindTuple(None))
        self.assertEqual(_bindTuple("192.0.2.1"), ("192.0.2.1", 0))
        self.assertEqual(_bindTuple(b"192.0.2.1"), ("192.0.2.1", 0))
        self.assertEqual(_bindTuple((b"192.0.2.1", 40)), ("192.0.2.1", 40))

    def test_fourTuple(self) -> None:
        """
        The 4-tuple that C{connectTCP} takes for IPv6 (host, port, flow
        info, scope id) is accepted; a scope id becomes the host's zone.
        """
        self.assertEqual(_bindTuple(("::1", 40, 0, 0)), ("::1", 40))
        self.assertEqual(_bindTuple(("fe80::1", 40, 0, 2)), ("fe80::1%2", 40))
        self.assertEqual(_bindTuple(("fe80::1%lo", 40, 0, 1)), ("fe80::1%lo", 40))

    def test_badTuple(self) -> None:
        """
        A tuple of another length is refused with a message that says what
        is taken.
        """
        error = self.assertRaises(ValueError, _bindTuple, ("::1", 40, 0))
        self.assertIn("(host, port)", str(error))

    def test_pair(self) -> None:
        self.assertIsNone(_bindPair(None))
        self.assertEqual(_bindPair(("192.0.2.1", 4)), ("192.0.2.1", 4))

    def test_binding(self) -> None:
        if makeBinding is None:
            raise SkipTest("this Twisted has no makeBinding")
        self.assertTrue(canReuseBinding())
        given = makeBinding("192.0.2.1", 4, reusePort=True)
        self.assertEqual(binding(given, False, False), (given, False, True))
        self.assertEqual(_bindPair(given), ("192.0.2.1", 4))
        self.assertEqual(
            binding("192.0.2.1", True, False),
            (makeBinding("192.0.2.1", 0, reuseAddress=True), True, False),
        )
        self.assertEqual(binding(None, False, False), (None, False, False))
        self.assertEqual(binding(None, False, True)[0], makeBinding("", 0, False, True))


class EndpointTests(SynchronousTestCase):
    def test_fourTupleReachesConnectTCP(self) -> None:
        """
        A 4-tuple C{bindAddress} builds an endpoint (it raised before) whose
        C{connectTCP} binds the host and port.
        """
        from twisted.internet.protocol import Factory, Protocol
        from twisted.internet.testing import MemoryReactorClock

        from txendpoints import TCP6ClientEndpoint, describe

        reactor = MemoryReactorClock()
        endpoint = TCP6ClientEndpoint(reactor, "::1", 80, bindAddress=("::1", 7, 0, 0))
        endpoint.connect(Factory.forProtocol(Protocol))
        self.assertEqual(reactor.tcpClients[0][4], ("::1", 7))
        self.assertIn("bindAddress=[\\:\\:1]\\:7", describe(endpoint))
