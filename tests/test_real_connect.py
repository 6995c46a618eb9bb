"""
Real-reactor tests of the TCP client endpoints, on loopback only.
"""

from __future__ import annotations

import socket
from collections.abc import Generator
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import inlineCallbacks
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import TestCase

from tests._loopback import HAS_IPV6, Collect, Echo
from txendpoints import ConnectAttemptsError, HostClientEndpoint
from txendpoints.testing import FakeResolver

reactor: Any = _reactor


class RealConnectTests(TestCase):
    """
    Connect through our client strings to real loopback listeners and
    exchange bytes.
    """

    @inlineCallbacks
    def exchange(
        self, interface: str, client: str, endpoint: Any = None
    ) -> Generator[Any, Any, Any]:
        port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface=interface)
        self.addCleanup(port.stopListening)
        if endpoint is None:
            endpoint = clientFromString(reactor, client % (port.getHost().port,))
        proto = Collect(5)
        yield connectProtocol(endpoint, proto)
        peer = proto.transport.getPeer()  # type: ignore[union-attr]
        # Log lines name the user's protocol, not our stand-in.
        self.assertEqual(
            proto.transport.logPrefix(),  # type: ignore[union-attr]
            "Collect,client",
        )
        proto.transport.write(b"hello")  # type: ignore[union-attr]
        data = yield proto.done
        self.assertEqual(data, b"hello")
        return peer

    def test_tcp6(self) -> Any:
        if not HAS_IPV6:
            self.skipTest("no IPv6 loopback")
        return self.exchange("::1", "tx-tcp6:\\:\\:1:%d")

    def test_tcp4Name(self) -> Any:
        """
        C{localhost} is resolved by the reactor's own resolver.
        """
        return self.exchange("127.0.0.1", "tx-tcp4:localhost:%d:timeout=5")

    @inlineCallbacks
    def test_hostFallsBackToIPv4(self) -> Generator[Any, Any, None]:
        """
        A name that resolves to ::1 then 127.0.0.1, where only the IPv4
        listener exists, connects over IPv4.  With C{attemptDelay=0} no timer
        moves the race on: only the refusal from ::1 can, at once.
        """
        if not HAS_IPV6:
            self.skipTest("no IPv6 loopback")
        resolver = FakeResolver(reactor, {"dual.test": ["::1", "127.0.0.1"]})
        previous = reactor.installNameResolver(resolver)
        self.addCleanup(reactor.installNameResolver, previous)
        port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        endpoint = HostClientEndpoint(
            reactor, "dual.test", port.getHost().port, timeout=10, attemptDelay=0
        )
        proto = Collect(5)
        yield connectProtocol(endpoint, proto)
        peer: Any = proto.transport.getPeer()  # type: ignore[union-attr]
        self.assertIsInstance(peer, IPv4Address)
        self.assertEqual(peer.host, "127.0.0.1")
        proto.transport.write(b"hello")  # type: ignore[union-attr]
        self.assertEqual((yield proto.done), b"hello")
        self.assertEqual(
            [r.addressTypes for r in resolver.resolutions],
            [(IPv6Address,), (IPv4Address,)],
        )

    @inlineCallbacks
    def test_everyAddressRefused(self) -> Generator[Any, Any, None]:
        """
        When both loopback addresses refuse, the error lists each; a single
        refusal passes through as Twisted's own error.
        """
        if not HAS_IPV6:
            self.skipTest("no IPv6 loopback")
        resolver = FakeResolver(reactor, {"dual.test": ["::1", "127.0.0.1"]})
        previous = reactor.installNameResolver(resolver)
        self.addCleanup(reactor.installNameResolver, previous)
        # A port that was just free on both families: bind, note, close.
        with socket.socket(socket.AF_INET) as s:
            s.bind(("127.0.0.1", 0))
            number = s.getsockname()[1]
        endpoint = HostClientEndpoint(reactor, "dual.test", number, timeout=10)
        d = endpoint.connect(Factory.forProtocol(Protocol))
        error = yield self.assertFailure(d, ConnectAttemptsError)
        self.assertEqual(
            [(a.host, f.type) for a, f in error.failures],
            [("::1", ConnectionRefusedError), ("127.0.0.1", ConnectionRefusedError)],
        )
        d = clientFromString(reactor, f"tx-tcp4:127.0.0.1:{number}").connect(
            Factory.forProtocol(Protocol)
        )
        yield self.assertFailure(d, ConnectionRefusedError)
