"""
The relay's production options for real: a C{txendpoints relay} (or
C{twist tx-relay}) process on loopback, with Twisted's own C{haproxy:}
endpoint reading the PROXY header, access rules on 127.0.0.1 and ::1, the
idle timeout, connect retry, statistics on SIGUSR1 and C{--reactor}.
"""

from __future__ import annotations

import ipaddress
import select
import signal
import socket
import subprocess
import sys
import threading
import time

from twisted.trial.unittest import SynchronousTestCase

from ._loopback import HAS_IPV6
from .test_real_relay import TIMEOUT, Backend, RelayProcess, echo
from .test_real_relay_ends import deadPort

#: A server on Twisted's C{haproxy:} endpoint (the string is its first
#: argument) that answers the first bytes of each connection with the
#: peer and host it was told of, and the bytes; it prints its port.
PROXY_READER = """
import sys
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from twisted.internet.protocol import Factory, Protocol

class Report(Protocol):
    def dataReceived(self, data):
        peer, host = self.transport.getPeer(), self.transport.getHost()
        line = f"{peer.host} {peer.port} {host.host} {host.port} {data.decode()}"
        self.transport.write(line.encode() + b"\\n")
        self.transport.loseConnection()

def listening(port):
    print(port.getHost().port, flush=True)

d = serverFromString(reactor, sys.argv[1]).listen(Factory.forProtocol(Report))
d.addCallbacks(listening, lambda f: (f.printTraceback(), reactor.stop()))
reactor.run()
"""


def readLine(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def same(host: str) -> str:
    """
    One spelling of an address (Twisted's v2 reader writes IPv6 in full).
    """
    return str(ipaddress.ip_address(host))


class ProxyProtocolTests(SynchronousTestCase):
    """
    Twisted's C{haproxy:} endpoint behind the relay sees the client's
    addresses, not the relay's.

    @cvar environment: What to add to the relay's environment.
    """

    environment: dict[str, str] = {}

    def reader(self) -> int:
        process = subprocess.Popen(
            [sys.executable, "-c", PROXY_READER, "haproxy:tcp:0:interface=127.0.0.1"],
            stdout=subprocess.PIPE,
        )
        self.addCleanup(process.wait, TIMEOUT)
        self.addCleanup(process.kill)
        assert process.stdout is not None
        return int(process.stdout.readline())

    def relayed(self, version: str, family: int, *twist: str) -> None:
        upstream = self.reader()
        host = "127.0.0.1" if family == socket.AF_INET else "::1"
        listen = "tx-tcp4:0:interface=127.0.0.1"
        if family == socket.AF_INET6:
            listen = "tx-tcp6:0:interface=\\:\\:1"
        options = ("--proxy-protocol", version)
        if twist:
            relay = RelayProcess(
                *twist,
                f"--listen={listen}",
                f"--connect=tcp:127.0.0.1:{upstream}",
                *options,
                command=("-m", "twisted"),
                env=self.environment,
            )
        else:
            relay = RelayProcess(
                listen, f"tcp:127.0.0.1:{upstream}", *options, env=self.environment
            )
        self.addCleanup(relay.stop)
        shown = (
            f"\\[{host}\\]" if family == socket.AF_INET6 else host.replace(".", "\\.")
        )
        port = int(relay.waitFor(rf"listening on {shown}:(\d+)").group(1))
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.addCleanup(sock.close)
        sock.sendall(b"hello")
        fields = readLine(sock).decode().split()
        me, relayEnd = sock.getsockname(), sock.getpeername()
        self.assertEqual(
            [
                same(fields[0]),
                int(fields[1]),
                same(fields[2]),
                int(fields[3]),
                fields[4],
            ],
            [same(me[0]), me[1], same(relayEnd[0]), relayEnd[1], "hello"],
        )

    def test_v1IPv4(self) -> None:
        self.relayed("v1", socket.AF_INET)

    def test_v2IPv4(self) -> None:
        self.relayed("v2", socket.AF_INET)

    def test_v1IPv6(self) -> None:
        if not HAS_IPV6:
            raise self.skipTest("no IPv6 loopback")
        self.relayed("v1", socket.AF_INET6)

    def test_v2IPv6(self) -> None:
        if not HAS_IPV6:
            raise self.skipTest("no IPv6 loopback")
        self.relayed("v2", socket.AF_INET6)

    def stdio(self, version: str) -> None:
        """
        Standard I/O has no addresses to send: the header says so (UNKNOWN,
        or UNSPEC), and the reader uses the addresses it sees.
        """
        upstream = self.reader()
        relay = RelayProcess(
            "tx-stdio",
            f"tcp:127.0.0.1:{upstream}",
            "--proxy-protocol",
            version,
            stdin=subprocess.PIPE,
        )
        self.addCleanup(relay.stop)
        assert relay.process.stdin is not None
        assert relay.process.stdout is not None
        relay.process.stdin.write(b"piped")
        relay.process.stdin.close()
        # Not communicate(): a thread of RelayProcess reads standard error.
        fields = relay.process.stdout.read().decode().split()
        relay.process.wait(TIMEOUT)
        self.assertEqual(fields[0::2], ["127.0.0.1", "127.0.0.1", "piped"])
        self.assertEqual(int(fields[3]), upstream)
        self.assertEqual(relay.process.returncode, 0)

    def test_v1Stdio(self) -> None:
        self.stdio("v1")

    def test_v2Stdio(self) -> None:
        self.stdio("v2")

    def test_twist(self) -> None:
        self.relayed(
            "v2",
            socket.AF_INET,
            "--log-format=text",
            "--log-file=/dev/stderr",
            "tx-relay",
        )


class AccessTests(SynchronousTestCase):
    """
    C{--allow ::1} lets ::1 in and refuses 127.0.0.1, with the same
    options on a relay on each address.
    """

    def setUp(self) -> None:
        if not HAS_IPV6:
            raise self.skipTest("no IPv6 loopback")
        self.backend = Backend(echo)
        self.addCleanup(self.backend.close)

    def relay(self, listen: str, shown: str) -> tuple[RelayProcess, int]:
        relay = RelayProcess(
            listen, f"tcp:127.0.0.1:{self.backend.port}", "--allow", "::1"
        )
        self.addCleanup(relay.stop)
        return relay, int(relay.waitFor(rf"listening on {shown}:(\d+)").group(1))

    def test_allowIPv6RefuseIPv4(self) -> None:
        relay4, port4 = self.relay("tx-tcp4:0:interface=127.0.0.1", r"127\.0\.0\.1")
        relay6, port6 = self.relay("tx-tcp6:0:interface=\\:\\:1", r"\[::1\]")
        refused = socket.create_connection(("127.0.0.1", port4), timeout=TIMEOUT)
        self.addCleanup(refused.close)
        try:
            self.assertEqual(refused.recv(1), b"")
        except ConnectionResetError:
            pass
        relay4.waitFor(r"#1 from 127\.0\.0\.1:\d+ refused by no --allow rule matches")
        allowed = socket.create_connection(("::1", port6), timeout=TIMEOUT)
        self.addCleanup(allowed.close)
        allowed.sendall(b"let in")
        self.assertEqual(allowed.recv(100), b"let in")
        relay6.waitFor(r"#1 from \[::1\]:\d+ accepted")


class IdleTests(SynchronousTestCase):
    """
    @cvar environment: What to add to the relay's environment.
    """

    environment: dict[str, str] = {}

    def test_closesBothSides(self) -> None:
        """
        Once nothing has moved for the idle timeout, the client and the
        backend each see the connection closed (a FIN, not a reset).
        """
        self.closesBothSides()

    def closesBothSides(self) -> RelayProcess:
        """
        Relay one exchange with an idle timeout and check the close.

        @return: The relay, for more of its log.
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
            env=self.environment,
        )
        self.addCleanup(relay.stop)
        sock = socket.create_connection(
            ("127.0.0.1", relay.listeningPort()), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        sock.sendall(b"ping")
        self.assertEqual(sock.recv(100), b"ping")
        self.assertEqual(sock.recv(100), b"")
        self.assertTrue(backendDone.wait(TIMEOUT))
        self.assertEqual(ends, [b""])
        relay.waitFor(r"#1 from .*: idle for 0\.5 s; closing both sides")
        relay.waitFor(r"#1 from .* ended after .*: idle for 0\.5 s")
        return relay


class RetryTests(SynchronousTestCase):
    def test_upstreamComesUp(self) -> None:
        """
        The upstream refuses, then starts listening: the relay's retry
        connects, with what the client sent meanwhile.
        """
        port = deadPort()
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{port}",
            "--connect-retry",
            "forever",
            "--retry-delay",
            "0.1",
        )
        self.addCleanup(relay.stop)
        sock = socket.create_connection(
            ("127.0.0.1", relay.listeningPort()), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        sock.sendall(b"waited")
        relay.waitFor(
            r"#1 from .*: connecting to .* failed: .*refused.*; retry 1 in 0\.1 s"
        )
        late = socket.create_server(("127.0.0.1", port))
        self.addCleanup(late.close)
        conn, _ = late.accept()
        self.addCleanup(conn.close)
        conn.settimeout(TIMEOUT)
        self.assertEqual(conn.recv(100), b"waited")
        conn.sendall(b"at last")
        self.assertEqual(sock.recv(100), b"at last")


class StatsTests(SynchronousTestCase):
    def test_onSignal(self) -> None:
        backend = Backend(echo)
        self.addCleanup(backend.close)
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1", f"tcp:127.0.0.1:{backend.port}"
        )
        self.addCleanup(relay.stop)
        sock = socket.create_connection(
            ("127.0.0.1", relay.listeningPort()), timeout=TIMEOUT
        )
        self.addCleanup(sock.close)
        sock.sendall(b"12345")
        self.assertEqual(sock.recv(100), b"12345")
        relay.process.send_signal(signal.SIGUSR1)
        relay.waitFor(
            r"stats: 1 open, 1 accepted, 0 refused, 0 failed, 0 finished, "
            r"5 bytes up, 5 bytes down"
        )
        self.assertIsNone(relay.process.poll())

    def test_twistOnSignal(self) -> None:
        relay = RelayProcess(
            "--log-format=text",
            "--log-file=/dev/stderr",
            "tx-relay",
            "--listen=tx-tcp4:0:interface=127.0.0.1",
            f"--connect=tcp:127.0.0.1:{deadPort()}",
            command=("-m", "twisted"),
        )
        self.addCleanup(relay.stop)
        relay.listeningPort()
        relay.process.send_signal(signal.SIGUSR1)
        relay.waitFor(r"stats: 0 open, 0 accepted, 0 refused")
        self.assertIsNone(relay.process.poll())

    def test_everyInterval(self) -> None:
        relay = RelayProcess(
            "tx-tcp4:0:interface=127.0.0.1",
            f"tcp:127.0.0.1:{deadPort()}",
            "--stats",
            "0.1",
        )
        self.addCleanup(relay.stop)
        relay.waitFor(r"stats: 0 open, 0 accepted")
        relay.waitFor(r"stats: 0 open, 0 accepted")


class BacklogTests(SynchronousTestCase):
    def test_burst(self) -> None:
        """
        While the relay does not accept (stopped with SIGSTOP), a burst of
        200 connections all complete their handshake: its listen queue is
        not Twisted's 50, past which the kernel drops SYNs.
        """
        relay = RelayProcess("tx-tcp4:0:interface=127.0.0.1", "tcp:127.0.0.1:9")
        self.addCleanup(relay.stop)
        port = relay.listeningPort()
        relay.process.send_signal(signal.SIGSTOP)
        self.addCleanup(relay.process.send_signal, signal.SIGCONT)
        pending = []
        for _ in range(200):
            sock = socket.socket()
            self.addCleanup(sock.close)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            pending.append(sock)
        deadline = time.monotonic() + TIMEOUT
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], pending, [], 1)
            for sock in writable:
                self.assertEqual(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), 0)
                pending.remove(sock)
        self.assertEqual(len(pending), 0)


#: Runs C{txendpoints relay} with its arguments, saying which reactor
#: is installed once it runs, then stopping it.
REACTOR_SPY = """
import sys
from twisted.application import reactors
from txendpoints._tools._cli import main

install = reactors.installReactor

def spy(name):
    reactor = install(name)
    def report():
        print(type(reactor).__name__, file=sys.stderr, flush=True)
        reactor.stop()
    reactor.callWhenRunning(report)
    return reactor

reactors.installReactor = spy
sys.exit(main(sys.argv[1:]))
"""


class ReactorTests(SynchronousTestCase):
    def test_installed(self) -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                REACTOR_SPY,
                "relay",
                "--reactor",
                "poll",
                "tx-tcp4:0:interface=127.0.0.1",
                "tcp:127.0.0.1:9",
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        self.assertIn("PollReactor", result.stderr)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_unknown(self) -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "txendpoints",
                "relay",
                "--reactor",
                "nope",
                "tx-tcp4:0",
                "tcp:127.0.0.1:9",
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        self.assertEqual(result.returncode, 2)
        self.assertTrue(
            result.stderr.startswith(
                "txendpoints relay: error: --reactor 'nope' is not a reactor here; "
            ),
            result.stderr,
        )
