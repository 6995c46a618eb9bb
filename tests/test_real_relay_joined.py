"""
The production options of issue 15 on the paths of issue 18, for real on
127.0.0.1: a connection spliced from its first byte still gets its PROXY
header first and its idle timeout, and C{--workers} hands every option to
its workers.
"""

from __future__ import annotations

import signal
import socket
import time

from twisted.trial.unittest import SynchronousTestCase

# The module, not its classes: a TestCase imported by name runs here too.
from . import test_real_relay_production as production
from .test_real_relay import TIMEOUT, Backend, RelayProcess

ALWAYS = {"TXENDPOINTS_SPLICE": "always"}


class SplicedProxyProtocolTests(production.ProxyProtocolTests):
    """
    With every connection spliced from its first byte, the PROXY header
    still reaches Twisted's C{haproxy:} reader before the client's bytes.
    """

    environment = ALWAYS


class SplicedIdleTests(production.IdleTests):
    """
    A spliced connection on which nothing moves is closed both ways after
    the idle timeout.
    """

    environment = ALWAYS

    def test_closesBothSides(self) -> None:
        relay = self.closesBothSides()
        relay.waitFor(r"#1 from .* relayed by splice\(2\)")


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
