"""
Tests for the TCP server endpoints in L{txendpoints._tcp}.
"""

from __future__ import annotations

from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactor, RaisingMemoryReactor
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from txendpoints import TCP4ServerEndpoint, TCP6ServerEndpoint, describe


class TCPServerEndpointTests(SynchronousTestCase):
    """
    The TCP server endpoints listen through C{reactor.listenTCP}.
    """

    def test_provides(self) -> None:
        reactor = MemoryReactor()
        self.assertTrue(
            verifyObject(IStreamServerEndpoint, TCP4ServerEndpoint(reactor, 0))
        )
        self.assertTrue(
            verifyObject(IStreamServerEndpoint, TCP6ServerEndpoint(reactor, 0))
        )

    def test_listenArguments(self) -> None:
        reactor = MemoryReactor()
        factory = Factory.forProtocol(Protocol)
        d = TCP6ServerEndpoint(reactor, 8080, 10, "::1").listen(factory)
        self.assertEqual(reactor.tcpServers, [(8080, factory, 10, "::1")])
        port = self.successResultOf(d)
        self.assertEqual(port.getHost().port, 8080)  # type: ignore[attr-defined]

    def test_defaults(self) -> None:
        reactor = MemoryReactor()
        factory = Factory.forProtocol(Protocol)
        TCP4ServerEndpoint(reactor, 80).listen(factory)
        TCP6ServerEndpoint(reactor, 80).listen(factory)
        self.assertEqual(
            reactor.tcpServers, [(80, factory, 50, ""), (80, factory, 50, "::")]
        )

    def test_failureArrivesThroughDeferred(self) -> None:
        """
        A C{CannotListenError} raised at once by the reactor arrives as the
        Deferred's failure, not as an exception from C{listen}.
        """
        error = CannotListenError("::1", 80, OSError("in use"))
        reactor = RaisingMemoryReactor(listenException=error)
        d = TCP6ServerEndpoint(reactor, 80, interface="::1").listen(Factory())
        self.assertIs(self.failureResultOf(d, CannotListenError).value, error)

    def test_repr(self) -> None:
        reactor = MemoryReactor()
        self.assertEqual(
            repr(TCP6ServerEndpoint(reactor, 8080, 10, "::1")),
            "<TCP6ServerEndpoint tx-tcp6:8080:backlog=10:interface=\\:\\:1>",
        )
        self.assertEqual(
            repr(TCP4ServerEndpoint(reactor, 0)), "<TCP4ServerEndpoint tx-tcp4:0>"
        )

    def test_describeAndEquality(self) -> None:
        reactor = MemoryReactor()
        endpoint = TCP4ServerEndpoint(reactor, 80, interface="127.0.0.1")
        self.assertEqual(describe(endpoint), "tx-tcp4:80:interface=127.0.0.1")
        self.assertEqual(endpoint, TCP4ServerEndpoint(reactor, 80, 50, "127.0.0.1"))
        self.assertNotEqual(endpoint, TCP4ServerEndpoint(reactor, 81, 50, "127.0.0.1"))
        self.assertNotEqual(
            endpoint, TCP4ServerEndpoint(MemoryReactor(), 80, 50, "127.0.0.1")
        )
        self.assertEqual(
            hash(endpoint), hash(TCP4ServerEndpoint(reactor, 80, 50, "127.0.0.1"))
        )

    def test_describeRejectsOthers(self) -> None:
        with self.assertRaises(TypeError):
            describe(object())
