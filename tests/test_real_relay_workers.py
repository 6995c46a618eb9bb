"""
C{txendpoints relay --workers} for real: worker processes behind one
loopback port, supervised by their parent.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

from .test_real_relay import TIMEOUT, Backend, RelayProcess, echo, receiveAll
from .test_real_relay_ends import waitUntil


def children(pid: int) -> list[int]:
    """
    The processes whose parent is C{pid}.
    """
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class WorkersTests(SynchronousTestCase):
    if not os.path.exists("/proc/self/task"):
        skip = "needs /proc to find the workers"

    def start(self, *options: str) -> tuple[RelayProcess, int, Backend]:
        backend = Backend(echo)
        self.addCleanup(backend.close)
        relay = RelayProcess(
            "--workers",
            "2",
            *options,
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{backend.port}",
        )
        self.addCleanup(relay.stop)
        port = relay.listeningPort()
        relay.waitFor("2 workers relay for tx-tcp4:0")
        return relay, port, backend

    def roundTrip(self, port: int, payload: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            total, _ = receiveAll(sock)
        return b"x" * total

    def test_relayRestartStop(self) -> None:
        """
        Two workers relay; one that is killed is replaced and connections
        still work; SIGTERM stops the workers and the parent dies of it.
        """
        relay, port, backend = self.start("--quiet")
        workers = children(relay.process.pid)
        self.assertEqual(len(workers), 2)
        for i in range(20):
            self.assertEqual(len(self.roundTrip(port, b"y" * (1000 + i))), 1000 + i)
        os.kill(workers[0], signal.SIGKILL)
        relay.waitFor("worker 1 ended .*; starting another")
        self.assertTrue(
            waitUntil(lambda: len(children(relay.process.pid)) == 2, TIMEOUT)
        )
        self.assertNotIn(workers[0], children(relay.process.pid))
        self.assertEqual(len(self.roundTrip(port, b"z" * 5000)), 5000)
        current = children(relay.process.pid)
        self.assertEqual(relay.stop(), -signal.SIGTERM)
        for pid in current:
            self.assertFalse(alive(pid))
        self.assertEqual(backend.errors, [])

    def test_parentKilled(self) -> None:
        """
        Workers whose parent is gone stop.
        """
        relay, _, _ = self.start()
        workers = children(relay.process.pid)
        relay.process.kill()
        relay.process.wait(TIMEOUT)
        self.assertTrue(
            waitUntil(lambda: not any(alive(pid) for pid in workers), TIMEOUT)
        )

    def test_stdio(self) -> None:
        """
        Standard I/O cannot be shared by workers: a usage error.
        """
        result = subprocess.run(
            [
                *(sys.executable, "-m", "txendpoints", "relay", "--workers", "2"),
                *("tx-stdio", "tcp:127.0.0.1:1"),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn("--workers needs a listening socket", result.stderr)

    def test_twist(self) -> None:
        """
        C{twist tx-relay --workers 2} relays too.
        """
        backend = Backend(echo)
        self.addCleanup(backend.close)
        relay = RelayProcess(
            "--log-format=text",
            "--log-file=/dev/stderr",
            "tx-relay",
            "--workers=2",
            "--listen=tx-tcp4:0:interface=127.0.0.1",
            f"--connect=tcp:127.0.0.1:{backend.port}",
            command=("-m", "twisted"),
        )
        self.addCleanup(relay.stop)
        port = relay.listeningPort()
        relay.waitFor("2 workers relay")
        self.assertEqual(len(self.roundTrip(port, b"t" * 13)), 13)
        workers = children(relay.process.pid)
        self.assertEqual(len(workers), 2)
        self.assertEqual(relay.stop(), -signal.SIGTERM)
        for pid in workers:
            self.assertFalse(alive(pid))
