"""
The splice path on the real reactor in this process, whichever reactor
trial runs (C{--reactor=asyncio} included), on loopback only.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Generator
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import ILogObserver, LogEvent, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from tests._loopback import Echo
from txendpoints._relay._factory import RelayFactory

reactor: Any = _reactor
MiB = 1 << 20


@implementer(IHalfCloseableProtocol)
class HalfClosingEcho(Echo):
    """
    Echo, and end output once input ended.
    """

    def readConnectionLost(self) -> None:
        self.transport.loseConnection()  # type: ignore[union-attr]

    def writeConnectionLost(self) -> None:
        pass


class SendAndCollect(Protocol):
    """
    Send C{payload}, half-close, and fire C{done} with all that came back
    once the connection closed.
    """

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.received: list[bytes] = []
        self.done: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(self.payload)  # type: ignore[union-attr]
        self.transport.loseWriteConnection()  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.done.callback(b"".join(self.received))


class RealSpliceTests(TestCase):
    if not sys.platform.startswith("linux"):
        skip = "splice(2) is Linux only"

    @inlineCallbacks
    def test_relayed(self) -> Generator[Any, Any, None]:
        """
        8 MiB through a relay on this reactor come back intact, by splice.
        """
        messages: list[str] = []

        @implementer(ILogObserver)
        def observe(event: LogEvent) -> None:
            messages.append(formatEvent(event))

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        backend = reactor.listenTCP(
            0, Factory.forProtocol(HalfClosingEcho), interface="127.0.0.1"
        )
        self.addCleanup(backend.stopListening)
        factory = RelayFactory(
            reactor,
            TCP4ClientEndpoint(reactor, "127.0.0.1", backend.getHost().port),
        )
        relayPort = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(relayPort.stopListening)
        payload = os.urandom(8 * MiB)
        client = SendAndCollect(payload)
        yield connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", relayPort.getHost().port),
            client,
        )
        got = yield client.done
        yield factory.whenIdle()
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(payload).digest())
        self.assertTrue([m for m in messages if "relayed by splice(2)" in m], messages)
        [ended] = [m for m in messages if "ended after" in m]
        self.assertIn(f"{len(payload)} bytes up, {len(payload)} bytes down", ended)
