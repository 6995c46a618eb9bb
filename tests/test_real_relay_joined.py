"""
The production options of issue 15 on the paths of issue 18, for real on
127.0.0.1: a connection spliced from its first byte still gets its PROXY
header first and its idle timeout, and C{--workers} hands every option to
its workers.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time

from twisted.trial.unittest import SynchronousTestCase

from .test_real_relay import TIMEOUT, Backend, RelayProcess
from .test_real_relay_production import PROXY_READER, readLine

ALWAYS = {"TXENDPOINTS_SPLICE": "always"}


class SplicedTests(SynchronousTestCase):
    def test_proxyHeaderFirst(self) -> None:
        """
        With every connection spliced at once, the PROXY header still
        reaches Twisted's C{haproxy:} reader before the client's bytes.
        """
        reader = subprocess.Popen(
            [sys.executable, "-c", PROXY_READER, "haproxy:tcp:0:interface=127.0.0.1"],
            stdout=subprocess.PIPE,
        )
        self.addCleanup(reader.wait, TIMEOUT)
        self.addCleanup(reader.kill)
        assert reader.stdout is not None
        upstream = int(reader.stdout.readline())
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{upstream}",
            "--proxy-protocol",
            "v1",
            env=ALWAYS,
        )
        self.addCleanup(relay.stop)
        sock = socket.create_connection(
            ("127.0.0.1", relay.listeningPort()), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        sock.sendall(b"hello")
        fields = readLine(sock).decode().split()
        self.assertEqual(
            (fields[0], int(fields[1]), fields[4]),
            ("127.0.0.1", sock.getsockname()[1], "hello"),
        )

    def test_idleTimeout(self) -> None:
        """
        A spliced connection on which nothing moves is closed both ways
        after the idle timeout.
        """
        ends: list[bytes] = []
        backendDone = threading.Event()

        def backend(conn: socket.socket) -> None:
            conn.sendall(conn.recv(100))
            ends.append(conn.recv(100))
            backendDone.set()

        server = Backend(backend)
        self.addCleanup(server.close)
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{server.port}",
            "--idle-timeout",
            "0.5",
            env=ALWAYS,
        )
        self.addCleanup(relay.stop)
        sock = socket.create_connection(
            ("127.0.0.1", relay.listeningPort()), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        sock.sendall(b"ping")
        self.assertEqual(sock.recv(100), b"ping")
        relay.waitFor(r"#1 from .* relayed by splice\(2\)")
        self.assertEqual(sock.recv(100), b"")
        self.assertTrue(backendDone.wait(TIMEOUT))
        self.assertEqual(ends, [b""])
        relay.waitFor(r"#1 from .*: idle for 0\.5 s; closing both sides")


class WorkersTests(SynchronousTestCase):
    def test_optionsReachWorkers(self) -> None:
        """
        The workers of C{--workers 2} apply the relay's options: here
        C{--deny} refuses the client before anything reaches the backend,
        and SIGUSR1 to the parent makes the workers log statistics rather
        than ending the parent.
        """
        reached: list[bytes] = []

        def backend(conn: socket.socket) -> None:
            reached.append(conn.recv(100))

        server = Backend(backend)
        self.addCleanup(server.close)
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{server.port}",
            "--workers",
            "2",
            "--deny",
            "127.0.0.0/8",
        )
        self.addCleanup(relay.stop)
        port = relay.listeningPort()
        relay.waitFor(r"2 workers relay for")
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.addCleanup(sock.close)
        sock.sendall(b"secret")
        try:
            self.assertEqual(sock.recv(100), b"")
        except ConnectionResetError:
            pass  # Refused at once: closed, perhaps with a reset.
        relay.waitFor(r"refused.*--deny 127\.0\.0\.0/8")
        relay.process.send_signal(signal.SIGUSR1)
        relay.waitFor(r"stats: .* 1 refused")
        time.sleep(0.2)
        self.assertIsNone(relay.process.poll())
        self.assertEqual(reached, [])
