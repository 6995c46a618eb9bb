"""
Tests for L{txendpoints._relay._join}: which path a relay takes, and a
relay on the splice path, in this process: Twisted's own TCP transports
on loopback socket pairs, on a L{MemoryReactorClock} driven by hand.
"""

from __future__ import annotations

import errno
import os
import re
import select
import socket
import struct
import sys
from typing import Any

from twisted.internet import tcp
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IHalfCloseableDescriptor, ISSLTransport
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import alsoProvides

import txendpoints._relay._join as join
import txendpoints._relay._pipes as pipes
import txendpoints._relay._splice as splice
from txendpoints._relay._factory import RelayFactory
from txendpoints._relay._join import SWITCH, whyNotSplice
from txendpoints._relay._pipes import Pipe

from .test_relay_relay import ControlledEndpoint
from .test_relay_splice import LINUX, tcpPair

MiB = 1 << 20
PEER = IPv4Address("TCP", "127.0.0.1", 5555)
RESET = struct.pack("ii", 1, 0)


def tcpTransport(
    sock: socket.socket, reactor: MemoryReactorClock, protocol: Any = None
) -> tcp.Connection:
    """
    Twisted's TCP transport over C{sock}, connected and reading, as
    C{tcp.Server} makes it.
    """
    transport = tcp.Connection(sock, protocol, reactor)
    transport.connected = 1
    if protocol is not None:
        transport.startReading()
        protocol.makeConnection(transport)
    return transport


def drive(reactor: MemoryReactorClock, limit: int = 200000) -> None:
    """
    Play the reactor, as Twisted's select reactor would: call each ready
    descriptor, and disconnect one whose call returns a reason.
    """
    for _ in range(limit):
        reactor.advance(0)
        readers, writers = list(reactor.getReaders()), list(reactor.getWriters())
        ready, writable, _ = select.select(readers, writers, [], 0)
        if not ready and not writable and not reactor.getDelayedCalls():
            return
        for d, isRead in [(d, True) for d in ready] + [(d, False) for d in writable]:
            if d not in (reactor.getReaders() if isRead else reactor.getWriters()):
                continue
            why = d.doRead() if isRead else d.doWrite()
            if why:
                reactor.removeReader(d)
                reason = Failure(why)
                if (
                    isRead
                    and reason.check(ConnectionDone)
                    and IHalfCloseableDescriptor.providedBy(d)
                ):
                    d.readConnectionLost(reason)
                else:
                    reactor.removeWriter(d)
                    d.connectionLost(reason)
    raise AssertionError("the relay never settled")


class SplicedRelayTestCase(SynchronousTestCase):
    """
    A relay between two real TCP transports takes the splice path, and
    behaves as it does on the transport path.
    """

    if not LINUX:
        skip = "splice(2) is Linux only"

    spliceAfter = 0

    def assertNothingWatched(self) -> None:
        """
        The reactor watches no descriptor.
        """
        watched = self.reactor.getReaders(), self.reactor.getWriters()
        self.assertEqual(watched, ([], []))

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.endpoint = ControlledEndpoint()
        self.factory = RelayFactory(self.reactor, self.endpoint)
        # These tests are of the pump joining the sides at once.
        self.patch(join, "SPLICE_AFTER", self.spliceAfter)
        self.logs = self.enterContext(capturedLogs())

    def enterContext(self, manager: Any) -> Any:
        value = manager.__enter__()
        self.addCleanup(manager.__exit__, None, None, None)
        return value

    def socketPair(self) -> tuple[socket.socket, socket.socket]:
        a, b = tcpPair()
        for s in (a, b):
            self.addCleanup(s.close)
        return a, b

    def accept(self) -> socket.socket:
        """
        Accept a connection; return the client's socket.
        """
        client, accepted = self.socketPair()
        protocol = self.factory.buildProtocol(PEER)
        self.accepted = tcpTransport(accepted, self.reactor, protocol)
        client.setblocking(False)
        return client

    def connect(self) -> socket.socket:
        """
        Complete the outgoing connection; return the server's socket.
        """
        mine, server = self.socketPair()
        self.outgoing = tcpTransport(mine, self.reactor)
        # As tcp.Client does: reading, then connectionMade.
        self.outgoing.startReading()
        self.endpoint.succeed(self.outgoing)
        server.setblocking(False)
        return server

    def relayed(self) -> tuple[socket.socket, socket.socket]:
        client = self.accept()
        server = self.connect()
        return client, server

    def messages(self, level: LogLevel | None = None) -> list[str]:
        from twisted.logger import formatEvent

        return [
            formatEvent(e)
            for e in self.logs
            if level is None or e["log_level"] == level
        ]

    def receive(self, sock: socket.socket) -> bytes:
        """
        Everything C{sock} can read now, driving the reactor meanwhile.
        """
        got = bytearray()
        for _ in range(100000):
            drive(self.reactor)
            try:
                chunk = sock.recv(MiB)
            except BlockingIOError:
                return bytes(got)
            if not chunk:
                return bytes(got) + b"<EOF>"
            got += chunk
        raise AssertionError("never stopped")


class SplicedRelayTests(SplicedRelayTestCase):
    """
    A relay that splices from its first byte.
    """

    def test_spliced(self) -> None:
        """
        The relay says at debug level that it splices; bytes and ends go
        both ways; the log line counts the bytes; both peers see a clean
        end, not a reset, and the relay is gone.
        """
        client, server = self.relayed()
        self.assertIsNotNone(self.factory.relays.copy().pop()._pump)
        self.assertIn(
            "#1 from 127.0.0.1:5555 relayed by splice(2) after 0 bytes", self.messages()
        )
        up, down = os.urandom(3 * MiB), os.urandom(MiB)
        views = {client: memoryview(up), server: memoryview(down)}
        got = {client: bytearray(), server: bytearray()}
        while not all(g.endswith(b"<EOF>") for g in got.values()):
            for sock, view in views.items():
                if len(view):
                    try:
                        views[sock] = view[sock.send(view) :]
                    except BlockingIOError:
                        pass
                    if not len(views[sock]):
                        sock.shutdown(socket.SHUT_WR)
            for sock in got:
                got[sock] += self.receive(sock)
        self.assertEqual(bytes(got[server]), up + b"<EOF>")
        self.assertEqual(bytes(got[client]), down + b"<EOF>")
        self.assertEqual(self.factory.relays, set())
        [ended] = [m for m in self.messages() if "ended after" in m]
        self.assertIn(f"{len(up)} bytes up, {len(down)} bytes down", ended)
        self.assertIn("closed by the", ended)
        self.assertFalse([m for m in self.messages() if "resetting" in m])
        self.assertNothingWatched()

    def test_early(self) -> None:
        """
        What the client sent while the relay connected reaches the server
        first.
        """
        client = self.accept()
        client.sendall(b"early ")
        drive(self.reactor)
        server = self.connect()
        client.sendall(b"late")
        self.assertEqual(self.receive(server), b"early late")

    def test_halfClose(self) -> None:
        """
        The client's end of input reaches the server as such, and the
        server's answer still reaches the client.
        """
        client, server = self.relayed()
        client.sendall(b"question")
        client.shutdown(socket.SHUT_WR)
        self.assertEqual(self.receive(server), b"question<EOF>")
        server.sendall(b"answer")
        self.assertEqual(self.receive(client), b"answer")
        self.assertEqual(len(self.factory.relays), 1)

    def test_resetPassedOn(self) -> None:
        """
        A client that resets makes the relay reset the server, and say so.
        """
        client, server = self.relayed()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
        client.close()
        drive(self.reactor)
        with self.assertRaises(ConnectionResetError):
            server.recv(100)
        self.assertTrue(
            [m for m in self.messages() if "resetting the server connection" in m]
        )
        self.assertEqual(self.factory.relays, set())

    def test_abort(self) -> None:
        """
        Aborting a spliced relay stops the pump and resets both peers.
        """
        client, server = self.relayed()
        relay = self.factory.relays.copy().pop()
        relay.abort()
        drive(self.reactor)
        for peer in (client, server):
            with self.assertRaises(ConnectionResetError):
                peer.recv(100)
        self.assertIsNone(relay._pump)
        self.assertEqual(self.factory.relays, set())
        self.assertNothingWatched()

    def test_refusedFallsBack(self) -> None:
        """
        When the kernel refuses to splice, the relay goes on through its
        transports, with the bytes read early, and says why.
        """

        def refuse(source: int, sink: int, count: int, flags: int) -> int:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

        self.patch(splice, "_osSplice", refuse)
        client = self.accept()
        client.sendall(b"early ")
        drive(self.reactor)
        server = self.connect()
        client.sendall(b"late")
        server.sendall(b"back")
        self.assertEqual(self.receive(server), b"early late")
        self.assertEqual(self.receive(client), b"back")
        self.assertIn(
            "#1 from 127.0.0.1:5555 relayed through the transports "
            "(splice(2) refused: Invalid argument)",
            self.messages(LogLevel.debug),
        )

    def test_noPipe(self) -> None:
        """
        Out of descriptors for the pipes, the relay uses its transports.
        """

        def noPipe() -> Pipe:
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

        self.patch(pipes, "openPipe", noPipe)
        client, server = self.relayed()
        client.sendall(b"hello")
        self.assertEqual(self.receive(server), b"hello")
        self.assertIn(
            "#1 from 127.0.0.1:5555 relayed through the transports "
            "(no pipe: Too many open files)",
            self.messages(),
        )

    def test_inputEndedWhileConnecting(self) -> None:
        """
        A client whose input ended before the server connected is relayed
        through the transports, which pass that end on.
        """
        client = self.accept()
        client.sendall(b"all of it")
        client.shutdown(socket.SHUT_WR)
        drive(self.reactor)
        server = self.connect()
        self.assertEqual(self.receive(server), b"all of it<EOF>")
        self.assertIn("while connecting", " ".join(self.messages()))


class LaterSpliceTests(SplicedRelayTestCase):
    """
    By default a relay moves to splice(2) only once a side has sent
    C{SPLICE_AFTER} bytes, at a read that finds both write buffers empty.
    """

    spliceAfter = 10000

    def relay(self) -> Any:
        return self.factory.relays.copy().pop()

    def test_shortExchange(self) -> None:
        """
        A request and its answer under the threshold never start a pump,
        and log no path (a line for each short connection would cost more
        than the check).
        """
        client, server = self.relayed()
        client.sendall(b"q" * 1024)
        client.shutdown(socket.SHUT_WR)
        self.assertEqual(self.receive(server), b"q" * 1024 + b"<EOF>")
        server.sendall(b"a" * 1024)
        server.shutdown(socket.SHUT_WR)
        self.assertEqual(self.receive(client), b"a" * 1024 + b"<EOF>")
        self.assertEqual(self.factory.relays, set())
        self.assertFalse([m for m in self.messages() if "relayed" in m])

    def stream(self, sender: socket.socket, receiver: socket.socket) -> bytes:
        """
        Send 1 MiB from C{sender}, and return what C{receiver} got.
        """
        data = os.urandom(MiB)
        view, got = memoryview(data), bytearray()
        while len(view):
            try:
                view = view[sender.send(view[:4096]) :]
            except BlockingIOError:
                pass
            got += self.receive(receiver)
        got += self.receive(receiver)
        self.assertEqual(bytes(got), data)
        return data

    def test_stream(self) -> None:
        """
        A stream moves to a pump once past the threshold, with nothing
        lost or reordered, and the byte counts include both paths.
        """
        client, server = self.relayed()
        self.stream(client, server)
        relay = self.relay()
        self.assertIsNotNone(relay._pump)
        self.assertIsNone(relay._spliceAfter)
        self.assertFalse(relay.accepted.producing or relay.outgoing.producing)
        [line] = [m for m in self.messages() if "relayed by splice(2)" in m]
        [moved] = re.findall(r"after (\d+) bytes$", line)
        self.assertTrue(0 < int(moved) < MiB, moved)
        server.sendall(b"back")
        self.assertEqual(self.receive(client), b"back")
        client.shutdown(socket.SHUT_WR)
        server.shutdown(socket.SHUT_WR)
        self.assertEqual(self.receive(client), b"<EOF>")
        [ended] = [m for m in self.messages() if "ended after" in m]
        self.assertIn(f"{MiB} bytes up, 4 bytes down", ended)

    def test_fromTheServer(self) -> None:
        """
        The server's stream moves the relay too; its read goes first, to
        the client.
        """
        client, server = self.relayed()
        self.stream(server, client)
        self.assertIsNotNone(self.relay()._pump)
        client.sendall(b"after")
        self.assertEqual(self.receive(server), b"after")

    def test_always(self) -> None:
        """
        C{TXENDPOINTS_SPLICE=always} splices from the first byte.
        """
        self.patch(os, "environ", {SWITCH: "always"})
        client, server = self.relayed()
        self.assertIsNotNone(self.relay()._pump)
        client.sendall(b"hi")
        self.assertEqual(self.receive(server), b"hi")

    def test_notWhileBuffered(self) -> None:
        """
        A read past the threshold while a write buffer holds bytes stays on
        the transports.
        """
        _, server = self.relayed()
        relay = self.relay()
        relay.outgoing.transport.write(b"pending ")
        relay.accepted.received = 20000
        relay.accepted.dataReceived(b"x")
        self.assertIsNone(relay._pump)
        self.assertEqual(self.receive(server), b"pending x")

    def test_refusedLater(self) -> None:
        """
        A kernel that refuses a stream's splice leaves it on the transports,
        with the read that was to go first still delivered.
        """

        def refuse(source: int, sink: int, count: int, flags: int) -> int:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

        self.patch(splice, "_osSplice", refuse)
        client, server = self.relayed()
        self.stream(client, server)
        relay = self.relay()
        self.assertIsNone(relay._pump)
        self.assertTrue(relay.accepted.producing and relay.outgoing.producing)
        self.assertIn("splice(2) refused", " ".join(self.messages()))
        self.stream(server, client)

    def test_noPipeLater(self) -> None:
        """
        Without pipes, a stream stays on the transports for good.
        """

        def noPipe() -> Pipe:
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

        self.patch(pipes, "openPipe", noPipe)
        client, server = self.relayed()
        self.stream(client, server)
        relay = self.relay()
        self.assertIsNone(relay._pump)
        self.assertIsNone(relay._spliceAfter)
        self.assertTrue(relay.accepted.producing and relay.outgoing.producing)
        self.stream(server, client)


class WhyNotSpliceTests(SynchronousTestCase):
    def tcpTransport(self, sock: socket.socket) -> tcp.Connection:
        self.addCleanup(sock.close)
        return tcp.Connection(sock, Protocol(), MemoryReactorClock())

    def setUp(self) -> None:
        a, b = tcpPair()
        self.transports = [self.tcpTransport(a), self.tcpTransport(b)]
        self.reactor = MemoryReactorClock()

    def skipUnlessLinux(self) -> None:
        if not LINUX:
            raise self.skipTest("splice(2) is Linux only")

    def test_twoTCPTransports(self) -> None:
        self.skipUnlessLinux()
        self.assertIsNone(whyNotSplice(self.reactor, self.transports, {}))

    def test_switchedOff(self) -> None:
        for value in ("no", "0", "false", "OFF"):
            self.assertEqual(
                whyNotSplice(self.reactor, self.transports, {SWITCH: value}),
                f"{SWITCH} turns it off",
            )

    def test_environment(self) -> None:
        """
        By default the switch is read from the process's environment.
        """
        self.patch(os, "environ", {SWITCH: "no"})
        self.assertEqual(
            whyNotSplice(self.reactor, self.transports), f"{SWITCH} turns it off"
        )

    def test_notLinux(self) -> None:
        self.assertEqual(
            whyNotSplice(self.reactor, self.transports, {}, platform="darwin"),
            "splice(2) is Linux only",
        )

    def test_reactorWithoutDescriptors(self) -> None:
        self.skipUnlessLinux()
        self.assertEqual(
            whyNotSplice(object(), self.transports, {}),
            "the reactor cannot watch descriptors",
        )

    def test_notTCP(self) -> None:
        self.skipUnlessLinux()
        self.assertEqual(
            whyNotSplice(self.reactor, [self.transports[0], StringTransport()], {}),
            "a side is not a TCP transport",
        )

    def test_unixSocket(self) -> None:
        self.skipUnlessLinux()
        a, b = socket.socketpair()
        self.addCleanup(b.close)
        transports = [self.transports[0], self.tcpTransport(a)]
        self.assertEqual(
            whyNotSplice(self.reactor, transports, {}), "a side is not a TCP socket"
        )

    def test_tls(self) -> None:
        self.skipUnlessLinux()
        alsoProvides(self.transports[1], ISSLTransport)
        self.assertEqual(
            whyNotSplice(self.reactor, self.transports, {}), "a side is TLS"
        )


if not sys.platform.startswith("linux"):
    SplicedRelayTestCase.skip = "splice(2) is Linux only"  # type: ignore[attr-defined]
