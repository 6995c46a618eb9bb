"""
Real-reactor tests of the TCP endpoints, on loopback only.
"""

from __future__ import annotations

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
from twisted.internet.protocol import Factory
from twisted.trial.unittest import TestCase

from tests._loopback import Collect, Echo

reactor: Any = _reactor


class RealListenTests(TestCase):
    """
    Listen on loopback through our strings, connect, exchange bytes, stop.
    """

    @inlineCallbacks
    def exchange(self, description: str, client: Any) -> Generator[Any, Any, None]:
        port = yield serverFromString(reactor, description).listen(
            Factory.forProtocol(Echo)
        )
        self.addCleanup(port.stopListening)
        proto = Collect(5)
        yield connectProtocol(
            client(reactor, port.getHost().host, port.getHost().port), proto
        )
        proto.transport.write(b"hello")  # type: ignore[union-attr]
        data = yield proto.done
        self.assertEqual(data, b"hello")

    def test_tcp4(self) -> Any:
        return self.exchange("tx-tcp4:0:interface=127.0.0.1", TCP4ClientEndpoint)

    def test_tcp6(self) -> Any:
        return self.exchange("tx-tcp6:0:interface=\\:\\:1", TCP6ClientEndpoint)
