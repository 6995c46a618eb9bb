"""
How relayed connections end, for real: a C{txendpoints relay} process on
loopback whose clients leave early or reset, and whose upstream does not
answer.
"""

from __future__ import annotations

import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time

from twisted.trial.unittest import SynchronousTestCase

from .test_real_relay import TIMEOUT, Backend, RelayProcess, echo, inThread

# SO_LINGER on, with a zero timeout: close() sends a reset, not a FIN.
RESET = struct.pack("ii", 1, 0)


def openDescriptors(pid: int) -> int:
    """
    How many file descriptors a process has open.
    """
    return len(os.listdir(f"/proc/{pid}/fd"))


def waitUntil(predicate: object, seconds: float) -> bool:
    """
    Poll C{predicate} until it is true or C{seconds} have passed.

    @return: Whether it became true.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def reset(sock: socket.socket) -> None:
    """
    Close C{sock} with a reset.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
    sock.close()


class UnansweredListener:
    """
    A loopback port whose connects hang: a listener that never accepts,
    with its backlog full, so that the kernel drops further SYNs.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port: int = self.sock.getsockname()[1]
        self.fill = []
        for _ in range(2):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            self.fill.append(s)
        # The backlog is full once a further connect hangs.
        probe = socket.socket()
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", self.port))
        except TimeoutError:
            pass
        else:
            raise AssertionError("the backlog did not fill")
        finally:
            probe.close()

    def close(self) -> None:
        for s in self.fill:
            s.close()
        self.sock.close()


class DepartureTests(SynchronousTestCase):
    """
    A client that leaves while the relay is connecting upstream cancels
    that connect at once.
    """

    def test_resetWhileConnecting(self) -> None:
        """
        20 clients reset while the upstream connect hangs: the relay's
        descriptors go back down at once (well before the connect's 60 s
        timeout), and no connect is logged as failed.
        """
        count = 20
        upstream = UnansweredListener()
        self.addCleanup(upstream.close)
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{upstream.port}:timeout=60",
        )
        self.addCleanup(relay.stop)
        port = relay.listeningPort()
        pid = relay.process.pid
        baseline = openDescriptors(pid)
        clients = [
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            for _ in range(count)
        ]
        for _ in range(count):
            relay.waitFor(r"#\d+ from 127\.0\.0\.1:\d+ accepted")
        # Each accepted connection and its outgoing attempt.
        self.assertTrue(
            waitUntil(lambda: openDescriptors(pid) >= baseline + 2 * count, 10),
            f"{openDescriptors(pid)} descriptors, baseline {baseline}",
        )
        for sock in clients:
            sock.sendall(b"hello")
            reset(sock)
        self.assertTrue(
            waitUntil(lambda: openDescriptors(pid) == baseline, 10),
            f"{openDescriptors(pid)} descriptors, baseline {baseline}",
        )
        for _ in range(count):
            relay.waitFor(r"ended after .*: client connection lost")
        self.assertEqual([line for line in relay.seen if "failed" in line], [])


class ResetTests(SynchronousTestCase):
    """
    A reset on one side of a relayed connection reaches the other as a
    reset, not as a clean end of the stream; on the splice path from the
    first byte in L{ResetAtOnceTests}, on the transport path in
    L{ResetTransportPathTests}.
    """

    environment: dict[str, str] = {}

    def relayTo(self, backend: Backend) -> int:
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{backend.port}",
            env=self.environment,
        )
        self.addCleanup(relay.stop)
        return relay.listeningPort()

    def test_clientReset(self) -> None:
        """
        The client resets after sending; the backend's next read fails with
        ECONNRESET instead of returning end of file.
        """
        got = threading.Event()
        seen: queue.Queue[object] = queue.Queue()

        def server(conn: socket.socket) -> None:
            seen.put(conn.recv(100))
            got.set()
            try:
                seen.put(conn.recv(100))
            except OSError as e:
                seen.put(e)

        backend = Backend(server)
        self.addCleanup(backend.close)
        sock = socket.create_connection(
            ("127.0.0.1", self.relayTo(backend)), timeout=TIMEOUT
        )
        sock.sendall(b"partial")
        self.assertTrue(got.wait(TIMEOUT))
        reset(sock)
        self.assertEqual(seen.get(timeout=TIMEOUT), b"partial")
        self.assertIsInstance(seen.get(timeout=TIMEOUT), ConnectionResetError)

    def test_backendReset(self) -> None:
        """
        The backend resets after answering; the client's next read fails
        with ECONNRESET instead of returning end of file.
        """

        def server(conn: socket.socket) -> None:
            conn.sendall(b"partial")
            conn.recv(1)
            reset(conn)

        backend = Backend(server)
        self.addCleanup(backend.close)
        sock = socket.create_connection(
            ("127.0.0.1", self.relayTo(backend)), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        self.assertEqual(sock.recv(100), b"partial")
        sock.sendall(b"x")
        with self.assertRaises(ConnectionResetError):
            sock.recv(100)


class ResetAtOnceTests(ResetTests):
    """
    The same, on the splice path from the first byte.
    """

    environment = {"TXENDPOINTS_SPLICE": "always"}


class ResetTransportPathTests(ResetTests):
    """
    The same, on the transport path.
    """

    environment = {"TXENDPOINTS_SPLICE": "no"}


def deadPort() -> int:
    """
    A loopback port that nothing listens on: connecting is refused.
    """
    sock = socket.create_server(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


class ExitStatusTests(SynchronousTestCase):
    """
    A relay that serves one connection (standard I/O, or C{--once}) exits
    1 if that connection could not be made, so that a script or an ssh
    C{ProxyCommand} sees it, and 0 if it was relayed.
    """

    def relay(self, *args: str, stdin: int | None = None) -> RelayProcess:
        relay = RelayProcess(*args, stdin=stdin)
        self.addCleanup(relay.stop)
        return relay

    def stdio(self, listen: str, connect: str) -> tuple[int, bytes]:
        relay = self.relay(listen, connect, stdin=subprocess.PIPE)
        assert relay.process.stdin is not None
        assert relay.process.stdout is not None
        relay.process.stdin.write(b"x")
        relay.process.stdin.close()
        out = inThread(relay.process.stdout.read)
        return relay.process.wait(30), out()

    def test_stdioConnectRefused(self) -> None:
        self.assertEqual(
            self.stdio("tx-stdio", f"tx-tcp4:127.0.0.1:{deadPort()}"), (1, b"")
        )

    def test_stdioByTypeNotSpelling(self) -> None:
        """
        A standard-I/O listener serves one connection however its prefix is
        spelt.
        """
        self.assertEqual(
            self.stdio("TX-STDIO", f"tx-tcp4:127.0.0.1:{deadPort()}"), (1, b"")
        )
        backend = Backend(echo)
        self.addCleanup(backend.close)
        self.assertEqual(
            self.stdio("TX-STDIO", f"tcp:127.0.0.1:{backend.port}"), (0, b"x")
        )

    def test_onceConnectRefused(self) -> None:
        relay = self.relay(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{deadPort()}",
            "--once",
        )
        sock = socket.create_connection(
            ("127.0.0.1", relay.listeningPort()), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        self.assertEqual(sock.recv(1), b"")
        self.assertEqual(relay.process.wait(30), 1)

    def test_onceRelayed(self) -> None:
        backend = Backend(echo)
        self.addCleanup(backend.close)
        relay = self.relay(
            "tx-tcp4:0:interface=127.0.0.1", f"tcp:127.0.0.1:{backend.port}", "--once"
        )
        sock = socket.create_connection(
            ("127.0.0.1", relay.listeningPort()), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        sock.sendall(b"once")
        sock.shutdown(socket.SHUT_WR)
        self.assertEqual(sock.recv(100), b"once")
        self.assertEqual(relay.process.wait(30), 0)


class TwistListenFailureTests(SynchronousTestCase):
    """
    C{twist tx-relay} on a port that is taken exits 1, whether the
    interface is an address or a host name.
    """

    def twist(self, interface: str) -> int:
        held = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(held.close)
        port = held.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "twisted",
                "tx-relay",
                f"--listen=tx-tcp4:{port}:interface={interface}",
                f"--connect=tcp:127.0.0.1:{deadPort()}",
            ],
            capture_output=True,
            timeout=30,
        )
        self.assertIn(b"Address already in use", result.stdout + result.stderr)
        return result.returncode

    def test_address(self) -> None:
        self.assertEqual(self.twist("127.0.0.1"), 1)

    def test_hostName(self) -> None:
        self.assertEqual(self.twist("localhost"), 1)
