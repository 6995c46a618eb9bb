"""
Tests for L{txendpoints._relay._transports}: closing what cannot abort or
half-close.
"""

from __future__ import annotations

from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._transports import abort, halfClose

from .test_relay_relay import HalfClosingTransport, NoAbortTransport


class TransportTests(SynchronousTestCase):
    def test_abort(self) -> None:
        transport = HalfClosingTransport()
        transport.protocol = Protocol()
        abort(transport)
        self.assertTrue(transport.aborted)

    def test_abortFallsBackToClose(self) -> None:
        transport = NoAbortTransport()
        transport.protocol = Protocol()
        abort(transport)
        self.assertFalse(transport.aborted)
        self.assertFalse(transport.connected)

    def test_halfClose(self) -> None:
        transport = HalfClosingTransport()
        halfClose(transport)
        self.assertTrue(transport.writeClosed)
        self.assertFalse(transport.disconnecting)

    def test_halfCloseFallsBackToClose(self) -> None:
        transport = StringTransport()
        halfClose(transport)
        self.assertTrue(transport.disconnecting)
