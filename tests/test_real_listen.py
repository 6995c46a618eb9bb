"""
Real-reactor tests of the listener options, on loopback only.
"""

from __future__ import annotations

import socket
from collections.abc import Generator
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.endpoints import (
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    connectProtocol,
    serverFromString,
)
from twisted.internet.error import CannotListenError, ConnectionRefusedError
from twisted.internet.interfaces import IReactorSocket
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import SkipTest, TestCase

from tests._loopback import HAS_IPV6, Collect, Echo
from txendpoints import HostServerEndpoint
from txendpoints.testing import FakeResolver

reactor: Any = _reactor


LOOPBACK_NAME = next(
    (name for _, name in socket.if_nameindex() if name in ("lo", "lo0")), None
)


class RealListenerTests(TestCase):
    """
    Listen through our endpoints on loopback, connect, exchange bytes.
    """

    def setUp(self) -> None:
        if not IReactorSocket.providedBy(reactor):
            raise SkipTest("this reactor cannot adopt sockets")

    def requireIPv6(self) -> None:
        if not HAS_IPV6:
            raise SkipTest("this host has no IPv6 loopback (::1)")

    def useResolver(self, answers: dict[str, list[str]]) -> None:
        previous = reactor.installNameResolver(FakeResolver(reactor, answers))
        self.addCleanup(reactor.installNameResolver, previous)

    @inlineCallbacks
    def listen(self, description: str) -> Generator[Any, Any, Any]:
        port = yield serverFromString(reactor, description).listen(
            Factory.forProtocol(Echo)
        )
        self.addCleanup(port.stopListening)
        return port

    @inlineCallbacks
    def exchange(self, client: Any, host: str, port: int) -> Generator[Any, Any, None]:
        proto = Collect()
        yield connectProtocol(client(reactor, host, port), proto)
        proto.transport.write(b"hello")  # type: ignore[union-attr]
        data = yield proto.done
        self.assertEqual(data, b"hello")

    @inlineCallbacks
    def test_everyAddressOfAName(self) -> Generator[Any, Any, None]:
        """
        A name resolving to 127.0.0.1 and ::1 gives one port listening on
        both, on one port number; stopping it stops both.
        """
        self.requireIPv6()
        self.useResolver({"both.test": ["127.0.0.1", "::1"]})
        ports = yield self.listen("tx-host:0:interface=both.test")
        hosts = ports.getHosts()
        self.assertEqual([h.host for h in hosts], ["127.0.0.1", "::1"])
        self.assertEqual(hosts[0].port, hosts[1].port)
        yield self.exchange(TCP4ClientEndpoint, "127.0.0.1", hosts[0].port)
        yield self.exchange(TCP6ClientEndpoint, "::1", hosts[1].port)
        yield ports.stopListening()
        for client, host in (
            (TCP4ClientEndpoint, "127.0.0.1"),
            (TCP6ClientEndpoint, "::1"),
        ):
            with self.assertRaises(ConnectionRefusedError):
                yield connectProtocol(client(reactor, host, hosts[0].port), Protocol())

    @inlineCallbacks
    def test_startAgainOnOneNumber(self) -> Generator[Any, Any, None]:
        """
        Started again after a stop, port 0 gives 127.0.0.1 and ::1 one new
        number between them, and both accept connections.
        """
        self.requireIPv6()
        self.useResolver({"both.test": ["127.0.0.1", "::1"]})
        ports = yield self.listen("tx-host:0:interface=both.test")
        yield ports.stopListening()
        ports.startListening()
        four, six = ports.getHosts()
        self.assertEqual(four.port, six.port)
        yield self.exchange(TCP4ClientEndpoint, "127.0.0.1", four.port)
        yield self.exchange(TCP6ClientEndpoint, "::1", six.port)

    @inlineCallbacks
    def test_startAgainAdopted(self) -> Generator[Any, Any, None]:
        """
        A socket of our own is made again, with its options, after a stop.
        """
        self.requireIPv6()
        port = yield self.listen("tx-tcp6:0:interface=\\:\\:1:ipv6Only=yes")
        yield port.stopListening()
        port.startListening()
        [again] = port.ports
        self.assertEqual(
            again.socket.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY), 1
        )
        yield self.exchange(TCP6ClientEndpoint, "::1", port.getHost().port)

    @inlineCallbacks
    def test_stopTwice(self) -> Generator[Any, Any, None]:
        """
        Stopping twice at once, which fails a Twisted C{Port}, stops the
        ports once; both fire and the stopped ports still have a repr.
        """
        self.useResolver({"one.test": ["127.0.0.1"]})
        ports = yield self.listen("tx-tcp4:0:interface=one.test")
        first, second = ports.stopListening(), ports.stopListening()
        yield first
        yield second
        self.assertEqual(
            repr(ports),
            f"<ListeningPorts on {ports.getHost()} (not listening)>",
        )
        self.assertEqual(ports.getHost().host, "127.0.0.1")

    @inlineCallbacks
    def test_partialFailureFreesTheOthers(self) -> Generator[Any, Any, None]:
        """
        When ::1 is taken, the listener on 127.0.0.1 is closed again: its
        port is free afterwards.  (Once the reactor runs: trial runs a test
        up to its first wait before it starts the reactor, and a listen
        before then fails at once, while the closing waits for the reactor.)
        """
        self.requireIPv6()
        yield deferLater(reactor, 0, lambda: None)
        taken = socket.socket(socket.AF_INET6)
        self.addCleanup(taken.close)
        taken.bind(("::1", 0))
        taken.listen(1)
        number = taken.getsockname()[1]
        self.useResolver({"both.test": ["127.0.0.1", "::1"]})
        endpoint = HostServerEndpoint(reactor, number, interface="both.test")
        with self.assertRaises(CannotListenError) as e:
            yield endpoint.listen(Factory.forProtocol(Echo))
        self.assertEqual(e.exception.interface, "::1")
        self.assertIn("Address already in use", str(e.exception))
        with socket.socket(socket.AF_INET) as probe:
            probe.bind(("127.0.0.1", number))

    @inlineCallbacks
    def test_ipv6OnlyNoAcceptsIPv4(self) -> Generator[Any, Any, None]:
        """
        With C{ipv6Only=no}, an IPv6 socket on the IPv4-mapped loopback
        address accepts an IPv4 client.  (The mapped address keeps the test
        on loopback, where C{::} would listen on every interface.)
        """
        self.requireIPv6()
        try:
            port = yield self.listen(
                "tx-tcp6:0:interface=\\:\\:ffff\\:127.0.0.1:ipv6Only=no"
            )
        except CannotListenError as e:
            raise SkipTest(f"the kernel refuses IPv4-mapped binds: {e}") from None
        self.assertEqual(
            port.ports[0].socket.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY), 0
        )
        yield self.exchange(TCP4ClientEndpoint, "127.0.0.1", port.getHost().port)

    @inlineCallbacks
    def test_ipv6OnlyYes(self) -> Generator[Any, Any, None]:
        """
        With C{ipv6Only=yes} the option is set on the listening socket, and
        the kernel refuses an IPv4-mapped address.
        """
        self.requireIPv6()
        port = yield self.listen("tx-tcp6:0:interface=\\:\\:1:ipv6Only=yes")
        self.assertEqual(
            port.ports[0].socket.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY), 1
        )
        yield self.exchange(TCP6ClientEndpoint, "::1", port.getHost().port)
        with self.assertRaises(CannotListenError) as e:
            yield self.listen("tx-tcp6:0:interface=\\:\\:ffff\\:127.0.0.1:ipv6Only=yes")
        self.assertIn(
            "an IPv4-mapped address cannot be listened on with IPV6_V6ONLY set",
            str(e.exception),
        )

    @inlineCallbacks
    def test_reusePort(self) -> Generator[Any, Any, None]:
        """
        Two listeners with C{reusePort=yes} share a port; without it, the
        second fails with the OS reason.
        """
        if not hasattr(socket, "SO_REUSEPORT"):
            raise SkipTest("this platform has no SO_REUSEPORT")
        first = yield self.listen("tx-tcp4:0:interface=127.0.0.1:reusePort=yes")
        number = first.getHost().port
        second = yield self.listen(
            f"tx-tcp4:{number}:interface=127.0.0.1:reusePort=yes"
        )
        self.assertEqual(second.getHost().port, number)
        yield self.exchange(TCP4ClientEndpoint, "127.0.0.1", number)
        with self.assertRaises(CannotListenError) as e:
            yield self.listen(f"tx-tcp4:{number}:interface=127.0.0.1")
        self.assertIn("Address already in use", str(e.exception))

    @inlineCallbacks
    def test_scopedLoopback(self) -> Generator[Any, Any, None]:
        """
        A scoped literal is bound with its zone's interface index.
        """
        self.requireIPv6()
        if LOOPBACK_NAME is None:
            raise SkipTest("no loopback interface named lo or lo0")
        try:
            port = yield self.listen(f"tx-tcp6:0:interface=\\:\\:1%{LOOPBACK_NAME}")
        except CannotListenError as e:
            raise SkipTest(f"the kernel refuses a zone on ::1: {e}") from None
        yield self.exchange(TCP6ClientEndpoint, "::1", port.getHost().port)
