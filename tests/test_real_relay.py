"""
The relay command for real: a C{txendpoints relay} process on loopback,
with plain blocking sockets on both sides of it.
"""

from __future__ import annotations

import hashlib
import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from twisted.internet.interfaces import IStreamServerEndpointStringParser
from twisted.plugin import getPlugins
from twisted.trial.unittest import SynchronousTestCase

MiB = 1 << 20
TIMEOUT = 120.0


def chunks(seed: int, total: int, size: int = MiB) -> Iterator[bytes]:
    """
    Reproducible random bytes, C{size} at a time.
    """
    rng = random.Random(seed)
    while total > 0:
        n = min(size, total)
        yield rng.randbytes(n)
        total -= n


def sendAll(sock: socket.socket, seed: int, total: int, sent: list[int]) -> str:
    """
    Send C{total} reproducible bytes, then half-close.

    @param sent: Its only item counts the bytes sent so far.
    @return: The sha256 of what was sent.
    """
    digest = hashlib.sha256()
    for chunk in chunks(seed, total):
        digest.update(chunk)
        sock.sendall(chunk)
        sent[0] += len(chunk)
    sock.shutdown(socket.SHUT_WR)
    return digest.hexdigest()


def receiveAll(sock: socket.socket) -> tuple[int, str]:
    """
    Read until end of input.

    @return: How many bytes, and their sha256.
    """
    digest = hashlib.sha256()
    buffer = bytearray(MiB)
    total = 0
    while n := sock.recv_into(buffer):
        digest.update(memoryview(buffer)[:n])
        total += n
    return total, digest.hexdigest()


def inThread(f: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """
    Run C{f(*args)} in a thread.

    @return: A function that waits for it and returns its result or raises
        its exception.
    """
    result: list[Any] = []

    def run() -> None:
        try:
            result.append((True, f(*args)))
        except BaseException as e:
            result.append((False, e))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def wait() -> Any:
        thread.join(TIMEOUT)
        if not result:
            raise TimeoutError(f"{f.__name__} did not finish")
        ok, value = result[0]
        if not ok:
            raise value
        return value

    return wait


class Backend:
    """
    A loopback TCP server that runs C{handle(conn)} in a thread for each
    connection.
    """

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self.handle = handle
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port: int = self.sock.getsockname()[1]
        self.errors: list[BaseException] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(TIMEOUT)
            try:
                self.handle(conn)
            except BaseException as e:
                self.errors.append(e)

    def close(self) -> None:
        self.sock.close()


def echo(conn: socket.socket) -> None:
    buffer = bytearray(256 * 1024)
    while n := conn.recv_into(buffer):
        conn.sendall(memoryview(buffer)[:n])


class RelayProcess:
    """
    A C{txendpoints relay} child process (or another C{command}); its
    standard error is read by a thread into L{lines}.
    """

    def __init__(
        self,
        *args: str,
        stdin: int | None = None,
        command: tuple[str, ...] = ("-m", "txendpoints", "relay"),
        env: dict[str, str] | None = None,
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *command, *args],
            env={**os.environ, **(env or {})},
            stdin=stdin,
            stdout=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stderr is not None
        threading.Thread(
            target=self._read, args=(self.process.stderr,), daemon=True
        ).start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.lines.put(line.decode("utf-8", "replace"))

    def waitFor(self, pattern: str) -> re.Match[str]:
        """
        Wait for a line of standard error that matches C{pattern}.
        """
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for seen in self.seen:
                if match := re.search(pattern, seen):
                    self.seen.remove(seen)
                    return match
            try:
                self.seen.append(self.lines.get(timeout=1))
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
        raise AssertionError(f"no line matching {pattern!r} in {self.seen!r}")

    def listeningPort(self) -> int:
        return int(self.waitFor(r"listening on 127\.0\.0\.1:(\d+)").group(1))

    def peakGrowth(self, baseline: int) -> int:
        return memory(self.process.pid, "VmHWM") - baseline

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(TIMEOUT)


def memory(pid: int, field: str) -> int:
    """
    A memory figure of a process from C{/proc}, in bytes.
    """
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


class RealRelayTests(SynchronousTestCase):
    """
    Bytes through a relay process, between loopback sockets: by default a
    stream moves to the splice path where there is one;
    L{RealRelayAtOnceTests} runs the same on the splice path from the first
    byte, L{RealRelayTransportPathTests} on the transport path.

    @cvar environment: What to add to the relay's environment.
    """

    environment: dict[str, str] = {}

    def relay(self, backendPort: int, *options: str) -> tuple[RelayProcess, int]:
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{backendPort}",
            *options,
            env=self.environment,
        )
        self.addCleanup(relay.stop)
        return relay, relay.listeningPort()

    def backend(self, handle: Callable[[socket.socket], None]) -> Backend:
        backend = Backend(handle)
        self.addCleanup(backend.close)
        return backend

    def connect(self, port: int) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.addCleanup(sock.close)
        return sock

    def test_path(self) -> None:
        """
        The relay says at debug level which path a connection took: splice
        on Linux unless switched off, the transports otherwise.
        """
        backend = self.backend(echo)
        relay, port = self.relay(backend.port)
        sock = self.connect(port)
        # Enough to be a stream, which moves to splice(2).
        size = 4 * MiB
        sent = inThread(sendAll, sock, 4, size, [0])
        self.assertEqual(receiveAll(sock), (size, sent()))
        switch = self.environment.get("TXENDPOINTS_SPLICE")
        if switch == "no":
            relay.waitFor(r"#1 from .* relayed through the transports \(TXENDPOINTS")
        elif not sys.platform.startswith("linux"):
            relay.waitFor(r"#1 from .* relayed through the transports")
        elif switch == "always":
            relay.waitFor(r"#1 from .* relayed by splice\(2\) after 0 bytes")
        else:
            relay.waitFor(r"#1 from .* relayed by splice\(2\) after [1-9]\d+ bytes")

    def test_64MiBBothWays(self) -> None:
        """
        64 MiB each way at once arrive intact, and each side's half-close
        reaches the other.
        """
        size = 64 * MiB
        results: dict[str, Any] = {}
        served = threading.Event()

        def server(conn: socket.socket) -> None:
            sent = inThread(sendAll, conn, 2, size, [0])
            results["up"] = receiveAll(conn)
            results["downSent"] = sent()
            served.set()

        backend = self.backend(server)
        relay, port = self.relay(backend.port, "--quiet")
        sock = self.connect(port)
        upSent = inThread(sendAll, sock, 1, size, [0])
        down = receiveAll(sock)
        self.assertTrue(served.wait(TIMEOUT))
        self.assertEqual(results.pop("up"), (size, upSent()))
        self.assertEqual(down, (size, results.pop("downSent")))
        self.assertEqual(backend.errors, [])
        self.assertEqual(relay.stop(), -signal.SIGTERM)

    def test_stalledReader(self) -> None:
        """
        While the server does not read, the client is made to wait and the
        relay's memory does not grow by more than 16 MiB; then everything
        arrives.

        The bound: the relay keeps at most about one write buffer (64 KiB,
        Twisted's C{bufferSize}, past which it pauses the producer) plus
        one read (64 KiB) per direction; 16 MiB leaves room for the
        allocator and interpreter, and is a quarter of the 64 MiB sent, of
        which a relay without flow control would hold all but the few MiB
        in kernel socket buffers.
        """
        size = 64 * MiB
        bound = 16 * MiB
        go = threading.Event()
        received: list[tuple[int, str]] = []

        def server(conn: socket.socket) -> None:
            go.wait(TIMEOUT)
            received.append(receiveAll(conn))

        backend = self.backend(server)
        relay, port = self.relay(backend.port, "--quiet")
        baseline = memory(relay.process.pid, "VmRSS")
        sock = self.connect(port)
        sent = [0]
        done = inThread(sendAll, sock, 3, size, sent)
        # Wait until the client is held up: no progress for a while.
        last, still = -1, 0
        deadline = time.monotonic() + TIMEOUT
        while still < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
            still = still + 1 if sent[0] == last else 0
            last = sent[0]
        self.assertLess(sent[0], size, "the client was never held up")
        growth = relay.peakGrowth(baseline)
        self.assertLess(growth, bound, f"relay grew by {growth / MiB:.1f} MiB")
        go.set()
        digest = done()
        sock.recv(1)
        self.assertEqual(received, [(size, digest)])
        self.assertLess(relay.peakGrowth(baseline), bound)

    def test_50Concurrent(self) -> None:
        """
        50 connections at once each get their own bytes back, and each is
        logged with its byte counts.
        """
        count, size = 50, 256 * 1024
        backend = self.backend(echo)
        relay, port = self.relay(backend.port)
        socks = [self.connect(port) for _ in range(count)]
        senders = [
            inThread(sendAll, sock, 100 + i, size, [0]) for i, sock in enumerate(socks)
        ]
        receivers = [inThread(receiveAll, sock) for sock in socks]
        for sender, receiver in zip(senders, receivers, strict=True):
            self.assertEqual(receiver(), (size, sender()))
        for _ in range(count):
            match = relay.waitFor(
                r"#(\d+) from 127\.0\.0\.1:\d+ ended after [\d.]+ s, "
                r"(\d+) bytes up, (\d+) bytes down: closed by the"
            )
            self.assertEqual(match.group(2, 3), (str(size), str(size)))
        self.assertEqual(backend.errors, [])

    def test_connectFails(self) -> None:
        """
        When the server refuses, the client is closed and the reason is
        logged.
        """
        closed = socket.create_server(("127.0.0.1", 0))
        deadPort = closed.getsockname()[1]
        closed.close()
        relay, port = self.relay(deadPort)
        sock = self.connect(port)
        self.assertEqual(sock.recv(1), b"")
        relay.waitFor(rf"connecting to tcp:127\.0\.0\.1:{deadPort} failed: .*refused")

    def test_gracefulStop(self) -> None:
        """
        On SIGTERM the relay stops listening but open connections carry on
        until they end; then it dies of the signal, as twist does.
        """
        backend = self.backend(echo)
        relay, port = self.relay(backend.port, "--grace", "60")
        sock = self.connect(port)
        sock.sendall(b"before")
        self.assertEqual(sock.recv(100), b"before")
        relay.process.send_signal(signal.SIGTERM)
        relay.waitFor("waiting up to 60")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
        sock.sendall(b"after")
        self.assertEqual(sock.recv(100), b"after")
        self.assertIsNone(relay.process.poll())
        sock.close()
        self.assertEqual(relay.process.wait(TIMEOUT), -signal.SIGTERM)

    def test_secondSignalAborts(self) -> None:
        """
        A second signal during the grace period ends open connections at
        once.
        """
        backend = self.backend(echo)
        relay, port = self.relay(backend.port, "--grace", "600")
        sock = self.connect(port)
        sock.sendall(b"x")
        self.assertEqual(sock.recv(1), b"x")
        relay.process.send_signal(signal.SIGINT)
        relay.waitFor("waiting up to 600")
        relay.process.send_signal(signal.SIGINT)
        relay.waitFor("aborted at shutdown")
        self.assertEqual(relay.process.wait(TIMEOUT), -signal.SIGINT)

    def test_twistPlugin(self) -> None:
        """
        C{twist tx-relay} relays too.
        """
        backend = self.backend(echo)
        relay = RelayProcess(
            "--log-format=text",
            "--log-file=/dev/stderr",
            "tx-relay",
            "--listen=tx-tcp4:0:interface=127.0.0.1",
            f"--connect=tcp:127.0.0.1:{backend.port}",
            command=("-m", "twisted"),
            env=self.environment,
        )
        self.addCleanup(relay.stop)
        port = relay.listeningPort()
        sock = self.connect(port)
        sock.sendall(b"through twist")
        sock.shutdown(socket.SHUT_WR)
        self.assertEqual(receiveAll(sock)[0], 13)
        self.assertEqual(relay.stop(), -signal.SIGTERM)


class RealRelayAtOnceTests(RealRelayTests):
    """
    The same, with every connection on the splice path from its first byte
    (by default only a stream moves to it).
    """

    environment = {"TXENDPOINTS_SPLICE": "always"}


class RealRelayTransportPathTests(RealRelayTests):
    """
    The same, on the transport path.
    """

    environment = {"TXENDPOINTS_SPLICE": "no"}


def stdioPrefixes() -> set[str]:
    return {p.prefix for p in getPlugins(IStreamServerEndpointStringParser)}


class StdioRelayTests(SynchronousTestCase):
    """
    A stdio server string makes the relay a netcat: standard input to the
    server, the server's answer to standard output, then exit.
    """

    def netcat(self, listen: str) -> None:
        backend = Backend(echo)
        self.addCleanup(backend.close)
        data = random.Random(7).randbytes(4 * MiB)
        relay = RelayProcess(
            listen, f"tcp:127.0.0.1:{backend.port}", stdin=subprocess.PIPE
        )
        self.addCleanup(relay.stop)
        assert relay.process.stdin is not None
        assert relay.process.stdout is not None
        writing = inThread(relay.process.stdin.write, data)
        closing = inThread(lambda: (writing(), relay.process.stdin.close()))  # type: ignore[union-attr]
        output = relay.process.stdout.read()
        closing()
        self.assertEqual(relay.process.wait(TIMEOUT), 0)
        self.assertEqual(len(output), len(data))
        self.assertEqual(output, data)

    def test_twistedStdio(self) -> None:
        self.netcat("stdio")

    def test_txStdio(self) -> None:
        if "tx-stdio" not in stdioPrefixes():
            raise self.skipTest(
                "the tx-stdio endpoint prefix is not installed on this branch; "
                "this test runs once it is merged"
            )
        self.netcat("tx-stdio")

    def test_txStdioHalfClose(self) -> None:
        """
        The server's end of output reaches standard output as end of file
        while standard input is still open, and input still flows after.
        """
        got: list[str] = []

        def sayAndListen(conn: socket.socket) -> None:
            conn.sendall(b"hello")
            conn.shutdown(socket.SHUT_WR)
            got.append(receiveAll(conn)[1])

        backend = Backend(sayAndListen)
        self.addCleanup(backend.close)
        relay = RelayProcess(
            "tx-stdio", f"tcp:127.0.0.1:{backend.port}", stdin=subprocess.PIPE
        )
        self.addCleanup(relay.stop)
        assert relay.process.stdin is not None
        assert relay.process.stdout is not None
        output: list[bytes] = []
        reading = threading.Thread(
            target=lambda: output.append(relay.process.stdout.read()),  # type: ignore[union-attr]
            daemon=True,
        )
        reading.start()
        reading.join(10)
        self.assertEqual(output, [b"hello"])
        relay.process.stdin.write(b"bye")
        relay.process.stdin.close()
        self.assertEqual(relay.process.wait(TIMEOUT), 0)
        self.assertEqual(got, [hashlib.sha256(b"bye").hexdigest()])


if not os.path.exists("/proc/self/status"):
    RealRelayTests.test_stalledReader.skip = "needs /proc to measure memory"  # type: ignore[attr-defined]
