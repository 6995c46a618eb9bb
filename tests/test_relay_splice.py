"""
Tests for L{txendpoints._relay._splice}: the splice pump on real socket
pairs, driven by hand through a L{MemoryReactorClock}'s descriptor sets.
"""

from __future__ import annotations

import errno
import hashlib
import os
import select
import socket
import struct
import sys
from typing import Any

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._pipes import Pipe, PipePool
from txendpoints._relay._splice import SplicePump

LINUX = sys.platform.startswith("linux") and hasattr(os, "splice")
KiB = 1024
MiB = 1 << 20


class FakeTransport:
    """
    The part of Twisted's TCP transport that the pump uses, over a real
    socket.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reading = True
        self.writing = False

    def getHandle(self) -> socket.socket:
        return self.sock

    def stopReading(self) -> None:
        self.reading = False

    def stopWriting(self) -> None:
        self.writing = False


class RecordingOwner:
    """
    Records what the pump says.
    """

    def __init__(self) -> None:
        self.moved = [0, 0]
        self.ended: list[int] = []
        self.finished = 0
        self.lost: list[tuple[int, Failure]] = []
        self.refused: list[tuple[bytes, str]] = []

    def pumpMoved(self, side: int, count: int) -> None:
        self.moved[side] += count

    def pumpInputEnded(self, side: int) -> None:
        self.ended.append(side)

    def pumpFinished(self) -> None:
        self.finished += 1

    def pumpLost(self, side: int, reason: Failure) -> None:
        self.lost.append((side, reason))

    def pumpRefused(self, unsent: bytes, reason: str) -> None:
        self.refused.append((unsent, reason))


def drive(reactor: MemoryReactorClock, limit: int = 100000) -> None:
    """
    Play the reactor: call each registered descriptor that is ready, until
    none is.
    """
    for _ in range(limit):
        readers, writers = list(reactor.getReaders()), list(reactor.getWriters())
        ready, writable, _ = select.select(readers, writers, [], 0)
        if not ready and not writable:
            return
        for d in ready:
            if d in reactor.getReaders():
                d.doRead()
        for d in writable:
            if d in reactor.getWriters():
                d.doWrite()
    raise AssertionError("the pump never settled")


def tcpPair() -> tuple[socket.socket, socket.socket]:
    """
    A connected pair of loopback TCP sockets.
    """
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
    return client, accepted


class PumpTestCase(SynchronousTestCase):
    if not LINUX:
        skip = "splice(2) is Linux only"

    def assertNothingWatched(self) -> None:
        """
        The reactor watches no descriptor.
        """
        watched = self.reactor.getReaders(), self.reactor.getWriters()
        self.assertEqual(watched, ([], []))

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.owner = RecordingOwner()

    def pair(self, tcpSockets: bool = False) -> tuple[socket.socket, socket.socket]:
        a, b = tcpPair() if tcpSockets else socket.socketpair()
        for s in (a, b):
            self.addCleanup(s.close)
        return a, b

    def pump(
        self, tcpSockets: bool = False, prefix: bytes = b"", **kwargs: Any
    ) -> tuple[SplicePump, socket.socket, socket.socket]:
        """
        A started pump between two sockets; the test holds their peers:
        the first stands for the client, the second for the server.
        """
        client, mine0 = self.pair(tcpSockets)
        mine1, server = self.pair(tcpSockets)
        for s in (mine0, mine1, client, server):
            s.setblocking(False)
        self.transports = [FakeTransport(mine0), FakeTransport(mine1)]
        pump = SplicePump(self.reactor, self.transports, self.owner, prefix, **kwargs)
        pump.start()
        self.addCleanup(pump.stop)
        return pump, client, server


def exchange(
    reactor: MemoryReactorClock,
    ends: tuple[socket.socket, socket.socket],
    data: tuple[bytes, bytes],
) -> tuple[bytes, bytes]:
    """
    Send C{data[i]} from C{ends[i]} to the other end, both at once, through
    the pump, then half-close each end.

    @return: What each end received, up to end of input.
    """
    views = [memoryview(d) for d in data]
    got = [bytearray(), bytearray()]
    shut = [False, False]
    eof = [False, False]
    for _ in range(100000):
        for i, end in enumerate(ends):
            if len(views[i]):
                try:
                    views[i] = views[i][end.send(views[i][: 256 * KiB]) :]
                except BlockingIOError:
                    pass
            elif not shut[i]:
                end.shutdown(socket.SHUT_WR)
                shut[i] = True
        drive(reactor)
        for i, end in enumerate(ends):
            while not eof[i]:
                try:
                    chunk = end.recv(MiB)
                except BlockingIOError:
                    break
                if not chunk:
                    eof[i] = True
                got[i] += chunk
        if all(eof):
            return bytes(got[1]), bytes(got[0])
    raise AssertionError("the exchange never ended")


class PumpTests(PumpTestCase):
    def test_bothWays(self) -> None:
        """
        Several MiB each way at once arrive intact, and each end of input is
        passed on; then the pump has finished and closed its pipes, and
        the transports stopped reading while it ran.
        """
        pump, client, server = self.pump()
        up, down = os.urandom(5 * MiB), os.urandom(3 * MiB + 7)
        pipes = [d.pipe for d in pump._directions]
        self.assertFalse(self.transports[0].reading)
        self.assertEqual(
            exchange(self.reactor, (client, server), (up, down)), (up, down)
        )
        self.assertEqual(self.owner.moved, [len(up), len(down)])
        self.assertEqual(pump.moved, [len(up), len(down)])
        self.assertEqual(sorted(self.owner.ended), [0, 1])
        self.assertEqual(self.owner.finished, 1)
        self.assertFalse(pump.running)
        self.assertNothingWatched()
        for pipe in pipes:
            self.assertRaises(OSError, os.fstat, pipe.readEnd)
            self.assertRaises(OSError, os.fstat, pipe.writeEnd)

    def test_overTCP(self) -> None:
        """
        The same between loopback TCP sockets, with hashes.
        """
        _pump, client, server = self.pump(tcpSockets=True)
        up, down = os.urandom(4 * MiB), os.urandom(2 * MiB)
        got = exchange(self.reactor, (client, server), (up, down))
        self.assertEqual(
            [hashlib.sha256(g).digest() for g in got],
            [hashlib.sha256(d).digest() for d in (up, down)],
        )

    def test_prefixFirst(self) -> None:
        """
        The prefix is sent to side 1 at once, before what side 0 sends.
        """
        pump, client, server = self.pump(prefix=b"early ")
        self.assertEqual(server.recv(100), b"early ")
        client.sendall(b"late")
        drive(self.reactor)
        self.assertEqual(server.recv(100), b"late")
        self.assertEqual(pump.unsent(), b"")
        self.assertEqual(pump.moved, [4, 0])

    def test_halfClose(self) -> None:
        """
        One side's end of input becomes a half-close of the other, while the
        other direction still flows; the pump finishes only once both
        ended.
        """
        pump, client, server = self.pump()
        client.sendall(b"question")
        client.shutdown(socket.SHUT_WR)
        drive(self.reactor)
        self.assertEqual(server.recv(100), b"question")
        self.assertEqual(server.recv(100), b"")
        self.assertEqual(self.owner.ended, [0])
        self.assertTrue(pump.running)
        server.sendall(b"answer")
        drive(self.reactor)
        self.assertEqual(client.recv(100), b"answer")
        server.shutdown(socket.SHUT_WR)
        drive(self.reactor)
        self.assertEqual(client.recv(100), b"")
        self.assertEqual((self.owner.ended, self.owner.finished), ([0, 1], 1))

    def test_stalledReaderStallsOnlyItsDirection(self) -> None:
        """
        While the server reads nothing, the pump stops reading the client
        once the pipe is full, so what it holds is bounded; the server's
        bytes still reach the client; then everything arrives.
        """
        pump, client, server = self.pump(pipes=PipePool(size=64 * KiB))
        sent = 0
        chunk = os.urandom(64 * KiB)
        for _ in range(1000):
            try:
                sent += client.send(chunk)
            except BlockingIOError:
                drive(self.reactor)
                try:
                    sent += client.send(chunk)
                except BlockingIOError:
                    break
        mine0 = self.transports[0].sock
        self.assertNotIn(pump._descriptors[0], self.reactor.getReaders())
        self.assertLess(pump.moved[0], sent)
        self.assertLessEqual(pump._directions[0].buffered, 64 * KiB)
        server.sendall(b"still flowing")
        drive(self.reactor)
        self.assertEqual(client.recv(100), b"still flowing")
        self.assertTrue(mine0.fileno() >= 0)
        got = 0
        for _ in range(100000):
            drive(self.reactor)
            try:
                data = server.recv(MiB)
            except BlockingIOError:
                if got == sent:
                    break
                continue
            got += len(data)
        self.assertEqual(got, sent)

    def test_resetWhileWriting(self) -> None:
        """
        A sink whose peer reset fails the pump with that side lost, not
        clean, and the pump stops.
        """
        pump, client, server = self.pump(tcpSockets=True)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()
        client.sendall(b"x" * 100000)
        drive(self.reactor)
        client.sendall(b"y" * 100000)
        drive(self.reactor)
        [(side, reason)] = self.owner.lost
        self.assertEqual(side, 1)
        self.assertIsInstance(reason.value, ConnectionLost)
        self.assertFalse(pump.running)
        self.assertNothingWatched()

    def test_resetWhileReading(self) -> None:
        """
        A source whose peer reset is lost, not ended.
        """
        _pump, client, _server = self.pump(tcpSockets=True)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        drive(self.reactor)
        [(side, reason)] = self.owner.lost
        self.assertEqual(side, 0)
        self.assertIn("reset", reason.getErrorMessage())
        self.assertEqual(self.owner.ended, [])

    def test_refused(self) -> None:
        """
        A kernel that refuses splice before a byte moved: the pump stops
        and hands back what is left of the prefix.
        """

        def refuse(source: int, sink: int, count: int, flags: int) -> int:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

        pump, client, server = self.pump(prefix=b"early", splice=refuse)
        client.sendall(b"x")
        drive(self.reactor)
        self.assertEqual(server.recv(100), b"early")
        [(unsent, reason)] = self.owner.refused
        self.assertEqual(unsent, b"")
        self.assertIn("refused", reason)
        self.assertFalse(pump.running)
        self.assertEqual(self.owner.lost, [])

    def test_refusedAfterBytesIsLost(self) -> None:
        """
        The same error once bytes moved is a failure of the connection.
        """
        calls = [0]

        def refuseLater(source: int, sink: int, count: int, flags: int) -> int:
            calls[0] += 1
            if calls[0] > 2:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            return os.splice(source, sink, count, flags=flags)

        _pump, client, _server = self.pump(splice=refuseLater)
        client.sendall(b"one")
        drive(self.reactor)
        client.sendall(b"two")
        drive(self.reactor)
        self.assertEqual(self.owner.refused, [])
        self.assertEqual([side for side, _ in self.owner.lost], [0])

    def test_slotsFull(self) -> None:
        """
        A pipe that takes no more before it is full by bytes (out of slots)
        stops the reading of its source until it drains, instead of waking
        the reactor for ever.
        """
        block = [False]

        def splice(source: int, sink: int, count: int, flags: int) -> int:
            if block[0] and source == self.transports[0].sock.fileno():
                raise BlockingIOError(errno.EAGAIN, "full")
            return os.splice(source, sink, count, flags=flags)

        pump, client, server = self.pump(splice=splice)
        # Fill the server's socket so that the pipe keeps some bytes.
        for _ in range(1000):
            if pump._directions[0].buffered:
                break
            try:
                client.send(b"z" * 65536)
            except BlockingIOError:
                pass
            drive(self.reactor)
        self.assertGreater(pump._directions[0].buffered, 0)
        block[0] = True
        pump._descriptors[0].doRead()
        self.assertTrue(pump._directions[0].full)
        self.assertNotIn(pump._descriptors[0], self.reactor.getReaders())
        block[0] = False
        server.recv(MiB)
        drive(self.reactor)
        self.assertFalse(pump._directions[0].full)

    def test_spuriousWakeUp(self) -> None:
        """
        A read notification with nothing to read and an empty pipe changes
        nothing.
        """
        pump, _client, _server = self.pump()
        pump._descriptors[0].doRead()
        self.assertIn(pump._descriptors[0], self.reactor.getReaders())
        self.assertFalse(pump._directions[0].full)

    def test_reactorReportsLoss(self) -> None:
        """
        When the reactor says a descriptor is gone, the pump stops and
        reports that side lost with the reactor's reason.
        """
        pump, _client, _server = self.pump()
        descriptor = pump._descriptors[1]
        self.reactor.removeReader(descriptor)
        descriptor.connectionLost(Failure(ConnectionDone()))
        [(side, reason)] = self.owner.lost
        self.assertEqual(side, 1)
        self.assertIsInstance(reason.value, ConnectionDone)
        self.assertNothingWatched()

    def test_stopTwice(self) -> None:
        """
        Stopping gives every descriptor back and closes the pipes, once;
        after it, notifications do nothing.
        """
        pump, client, _server = self.pump()
        descriptor = pump._descriptors[0]
        pump.stop()
        pump.stop()
        self.assertEqual(self.reactor.getReaders(), [])
        client.sendall(b"after")
        descriptor.doRead()
        descriptor.doWrite()
        self.assertEqual(pump.moved, [0, 0])
        self.assertEqual(self.owner.lost, [])

    def test_lastActivity(self) -> None:
        """
        The time of the last byte moved, from the reactor's clock.
        """
        pump, client, _server = self.pump()
        self.assertEqual(pump.lastActivity, 0)
        self.reactor.advance(5)
        client.sendall(b"x")
        drive(self.reactor)
        self.assertEqual(pump.lastActivity, 5)
        self.reactor.advance(5)
        drive(self.reactor)
        self.assertEqual(pump.lastActivity, 5)

    def test_noPipes(self) -> None:
        """
        When no pipe can be opened, start raises and takes nothing over.
        """
        _client, mine0 = self.pair()
        mine1, _server = self.pair()
        transports = [FakeTransport(mine0), FakeTransport(mine1)]
        taken: list[Pipe] = []
        pool = PipePool()

        def take() -> Pipe:
            if taken:
                raise OSError(errno.EMFILE, "Too many open files")
            taken.append(PipePool.take(pool))
            return taken[-1]

        given: list[Pipe] = []
        self.patch(pool, "take", take)
        self.patch(pool, "give", given.append)
        pump = SplicePump(self.reactor, transports, self.owner, pipes=pool)
        self.assertRaises(OSError, pump.start)
        self.assertEqual(given, taken)
        given[0].close()
        self.assertTrue(transports[0].reading)
        self.assertFalse(pump.running)

    def test_pipesKept(self) -> None:
        """
        A pump that finished gives its empty pipes back to the pool, for
        the next pump; a stream grows its pipe to the pool's size.
        """
        pool = PipePool(size=256 * KiB)
        pump, client, server = self.pump(pipes=pool)
        pipes = {id(d.pipe) for d in pump._directions}
        up = os.urandom(4 * MiB)
        self.assertEqual(exchange(self.reactor, (client, server), (up, b"")), (up, b""))
        self.assertEqual(pump._directions[0].pipe.size, 256 * KiB)
        self.assertEqual({id(p) for p in pool._free}, pipes)
        again, client, server = self.pump(pipes=pool)
        self.assertEqual({id(d.pipe) for d in again._directions}, pipes)
        self.assertEqual(pool._free, [])
        self.addCleanup(pool.close)

    def test_fullPipeNotKept(self) -> None:
        """
        A pipe that still holds bytes when its pump stops is closed.
        """
        pool = PipePool()
        pump, client, server = self.pump(pipes=pool)
        pump._directions[1].pipe.grow(4096)
        client.sendall(os.urandom(64 * 1024))
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        for _ in range(100):
            try:
                client.send(os.urandom(64 * 1024))
            except BlockingIOError:
                pass
            drive(self.reactor)
            if pump._directions[0].buffered:
                break
        full = pump._directions[0].pipe
        self.assertGreater(pump._directions[0].buffered, 0)
        pump.stop()
        self.assertNotIn(full, pool._free)
        self.assertRaises(OSError, os.fstat, full.readEnd)
        self.addCleanup(pool.close)
