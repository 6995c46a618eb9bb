"""
Tests for L{txendpoints._stdio._transport}: end of input, half-close and flushing.
"""

from __future__ import annotations

import os

from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
)
from twisted.internet.protocol import Factory
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._stdio._transport import _Modes

from .test_stdio_endpoints import (
    FakeReader,
    FakeWriter,
    HalfCloser,
    Reactor,
    Recorder,
    serverFor,
)


class HalfCloseTests(SynchronousTestCase):
    """
    End of input half-closes a protocol that can take it and disconnects
    one that cannot, without losing output either way.
    """

    def connect(self, protocol: Recorder) -> tuple[FakeReader, FakeWriter]:
        reactor = Reactor()
        factory = Factory.forProtocol(lambda: protocol)
        self.successResultOf(serverFor(reactor).listen(factory))
        reader, writer = reactor.made[::-1]
        return reader, writer

    def test_halfCloseable(self) -> None:
        protocol = HalfCloser()
        reader, writer = self.connect(protocol)
        reader.end()
        self.assertEqual(protocol.events, ["made", "readLost"])
        protocol.transport.write(b"still here")  # type: ignore[union-attr]
        writer.flush()
        self.assertEqual(writer.written, b"still here")
        protocol.transport.loseConnection()  # type: ignore[union-attr]
        writer.flush()
        self.assertEqual(protocol.events, ["made", "readLost", "lost"])

    def test_bothHalvesClosed(self) -> None:
        """
        After C{readConnectionLost}, closing the output ends the connection.
        """
        protocol = HalfCloser()
        reader, writer = self.connect(protocol)
        reader.end()
        protocol.transport.loseWriteConnection()  # type: ignore[union-attr]
        writer.flush()
        self.assertEqual(protocol.events, ["made", "readLost", "lost"])

    def test_notHalfCloseableFlushed(self) -> None:
        """
        A protocol that cannot be half-closed is disconnected at end of
        input, but only once what it wrote has been flushed.
        """
        protocol = Recorder()
        reader, writer = self.connect(protocol)
        protocol.transport.write(b"answer")  # type: ignore[union-attr]
        reader.end()
        self.assertEqual(protocol.events, ["made"])
        writer.flush()
        self.assertEqual(protocol.events, ["made", "lost"])
        self.assertEqual((writer.written, writer.dropped), (b"answer", b""))
        protocol.reasons[0].trap(ConnectionDone)

    def test_readErrorReported(self) -> None:
        """
        The protocol learns how input ended, not that output closed cleanly.
        """
        protocol = Recorder()
        reader, writer = self.connect(protocol)
        reader.end(Failure(ConnectionLost("EIO")))
        writer.flush()
        protocol.reasons[0].trap(ConnectionLost)

    def test_outputLostNotHalfCloseable(self) -> None:
        """
        When output fails under a protocol that cannot be half-closed, the
        connection ends with that failure rather than reading on silently.
        """
        protocol = Recorder()
        reader, writer = self.connect(protocol)
        writer.connectionLost(Failure(ConnectionLost("EPIPE")))
        self.assertEqual(protocol.events, ["made", "lost"])
        protocol.reasons[0].trap(ConnectionLost)
        self.assertTrue(reader.disconnected)

    def test_outputLostHalfCloseable(self) -> None:
        protocol = HalfCloser()
        reader, writer = self.connect(protocol)
        writer.connectionLost(Failure(ConnectionLost("EPIPE")))
        self.assertEqual(protocol.events, ["made", "writeLost"])
        reader.receive(b"more")
        self.assertEqual(protocol.data, b"more")

    def test_loseWriteConnectionKeepsReading(self) -> None:
        """
        A protocol that closes its own output on purpose keeps reading, as
        over TCP.
        """
        protocol = Recorder()
        reader, writer = self.connect(protocol)
        protocol.transport.loseWriteConnection()  # type: ignore[union-attr]
        writer.flush()
        reader.receive(b"more")
        self.assertEqual(protocol.events, ["made"])
        self.assertEqual(protocol.data, b"more")
        reader.end()
        self.assertEqual(protocol.events, ["made", "lost"])


class ModesTests(SynchronousTestCase):
    """
    L{_Modes} puts each descriptor's blocking mode back once no half uses
    its file, and not before: on a terminal both halves share one.
    """

    def pipe(self) -> tuple[int, int]:
        read, write = os.pipe()
        self.addCleanup(os.close, read)
        self.addCleanup(os.close, write)
        return read, write

    def test_sharedRestoredWhenBothGone(self) -> None:
        _, write = self.pipe()
        # Two descriptors of one open file description, as a terminal's
        # stdin and stdout are.
        other = os.dup(write)
        self.addCleanup(os.close, other)
        modes = _Modes(write, other)
        os.set_blocking(write, False)
        modes.lost(other)
        self.assertFalse(os.get_blocking(write))
        modes.lost(write)
        self.assertTrue(os.get_blocking(write))

    def test_separateRestoredEach(self) -> None:
        read, _ = self.pipe()
        _, write = self.pipe()
        os.set_blocking(write, False)
        modes = _Modes(read, write)
        os.set_blocking(read, False)
        os.set_blocking(write, True)
        modes.lost(write)
        self.assertEqual(
            (os.get_blocking(read), os.get_blocking(write)), (False, False)
        )
        modes.lost(read)
        self.assertTrue(os.get_blocking(read))

    def test_restoreAll(self) -> None:
        read, write = self.pipe()
        modes = _Modes(read, write, 999)
        self.assertEqual(sorted(modes.found), sorted([read, write]))
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        modes.restoreAll()
        self.assertEqual((os.get_blocking(read), os.get_blocking(write)), (True, True))
