"""
C{txendpoints connect} and C{txendpoints listen} for real: processes on
127.0.0.1 and ::1 copying bytes both ways (checked by SHA-256), half-closing
each way, exiting with the status each end deserves, and serving as an ssh
C{ProxyCommand}.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Generator
from typing import Any

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase, TestCase

from .test_real_relay import inThread

TIMEOUT = 120.0
COMMAND = [sys.executable, "-m", "txendpoints"]


def randomBytes(size: int) -> bytes:
    return os.urandom(size)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*COMMAND, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def listening(process: subprocess.Popen[bytes]) -> str:
    """
    Wait for a C{listen} process to say where it listens.

    @return: The client string of the first line, its last word.
    """
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    if "connect with" not in line:
        process.kill()
        raise AssertionError(f"listen said {line!r}")
    return line.split()[-1]


def readAll(stream: Any) -> bytes:
    return stream.read()


def skipWithoutIPv6() -> None:
    if not socket.has_ipv6:
        raise AssertionError("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        from twisted.trial.unittest import SkipTest

        raise SkipTest("this host has no ::1") from None


class BothWaysTests(SynchronousTestCase):
    """
    C{listen} and C{connect} joined to each other.
    """

    def pair(self, server: str) -> tuple[Any, Any]:
        listener = start("listen", server)
        self.addCleanup(listener.kill)
        client = start("connect", listening(listener))
        self.addCleanup(client.kill)
        return listener, client

    def bothWays(self, server: str) -> None:
        """
        Two MiB each way at once; both end 0 with every byte delivered.
        """
        up, down = randomBytes(2 << 20), randomBytes(2 << 20)
        listener, client = self.pair(server)
        finished = [
            inThread(process.communicate, data, TIMEOUT)
            for process, data in ((listener, down), (client, up))
        ]
        (listenerOut, listenerErr), (clientOut, clientErr) = (f() for f in finished)
        self.assertEqual(digest(listenerOut), digest(up))
        self.assertEqual(digest(clientOut), digest(down))
        self.assertEqual((listener.returncode, clientErr), (0, b""))
        self.assertEqual((client.returncode, listenerErr), (0, b""))

    def test_bothWaysIPv4(self) -> None:
        self.bothWays("tx-tcp4:0:interface=127.0.0.1")

    def test_bothWaysIPv6(self) -> None:
        skipWithoutIPv6()
        self.bothWays("tx-tcp6:0:interface=\\:\\:1")

    def halfClose(self, first: str) -> None:
        """
        The side whose input ends first half-closes: the other sees the
        end of its output, while it is still running, and can still answer.
        """
        listener, client = self.pair("tx-tcp4:0:interface=127.0.0.1")
        closer, answerer = (
            (client, listener) if first == "connect" else (listener, client)
        )
        question, answer = randomBytes(300_000), randomBytes(300_000)
        assert closer.stdin and answerer.stdin and answerer.stdout
        readQuestion = inThread(readAll, answerer.stdout)
        finishCloser = inThread(closer.communicate, question, TIMEOUT)
        self.assertEqual(digest(readQuestion()), digest(question))
        self.assertIsNone(answerer.poll())
        answerer.stdin.write(answer)
        answerer.stdin.close()
        closerOut, _ = finishCloser()
        self.assertEqual(digest(closerOut), digest(answer))
        self.assertEqual(answerer.wait(TIMEOUT), 0)
        self.assertEqual(closer.returncode, 0)

    def test_halfCloseFromConnect(self) -> None:
        self.halfClose("connect")

    def test_halfCloseFromListen(self) -> None:
        self.halfClose("listen")

    def test_keep(self) -> None:
        """
        C{listen --keep} serves one connection after another on one port.
        """
        listener = start("listen", "--keep", "tx-tcp4:0:interface=127.0.0.1")
        self.addCleanup(listener.kill)
        where = listening(listener)
        for n in range(2):
            client = start("connect", where)
            out, err = client.communicate(b"message %d\n" % n, TIMEOUT)
            self.assertEqual((client.returncode, out, err), (0, b"", b""))
        listener.send_signal(signal.SIGTERM)
        out, _ = listener.communicate(timeout=TIMEOUT)
        self.assertEqual(out, b"message 0\nmessage 1\n")
        self.assertEqual(listener.returncode, -signal.SIGTERM)


class ExitStatusTests(SynchronousTestCase):
    """
    0 for a clean end, 1 for a failed connect or listen or an unclean end,
    2 for a bad string.
    """

    def test_badString(self) -> None:
        result = subprocess.run(
            [*COMMAND, "connect", "tx-tcp4:8080"], capture_output=True, timeout=TIMEOUT
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"it is a server string", result.stderr)

    def test_refused(self) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        result = subprocess.run(
            [*COMMAND, "connect", f"tx-tcp4:127.0.0.1:{port}"],
            capture_output=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        self.assertEqual(result.returncode, 1)
        self.assertIn(
            b"txendpoints connect: cannot connect to tx-tcp4:127.0.0.1:%d: " % port,
            result.stderr,
        )

    def test_reset(self) -> None:
        """
        A connection reset by the peer ends with status 1, after what came
        before it was written out.
        """
        server = socket.socket()
        self.addCleanup(server.close)
        server.bind(("127.0.0.1", 0))
        server.listen()

        def resetAfterHello() -> None:
            conn, _ = server.accept()
            conn.sendall(b"hello\n")
            conn.recv(1)
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            conn.close()

        thread = threading.Thread(target=resetAfterHello)
        thread.start()
        client = start("connect", f"tx-tcp4:127.0.0.1:{server.getsockname()[1]}")
        self.addCleanup(client.kill)
        assert client.stdout and client.stdin
        self.assertEqual(client.stdout.readline(), b"hello\n")
        client.stdin.write(b"x")
        client.stdin.flush()
        _, err = client.communicate(timeout=TIMEOUT)
        thread.join()
        self.assertEqual(client.returncode, 1)
        self.assertIn(b"txendpoints connect: connection lost: ", err)

    def test_terminalEndsWithConnection(self) -> None:
        """
        With standard input a terminal, whose input has no end until
        someone types one, the end of the connection's input ends the
        command, as nc does, once output is flushed.
        """
        import pty

        server = socket.socket()
        self.addCleanup(server.close)
        server.bind(("127.0.0.1", 0))
        server.listen()

        def sayBye() -> None:
            conn, _ = server.accept()
            conn.sendall(b"bye\n")
            conn.close()

        thread = threading.Thread(target=sayBye)
        thread.start()
        controller, terminal = pty.openpty()
        self.addCleanup(os.close, controller)
        try:
            result = subprocess.run(
                [*COMMAND, "connect", f"tx-tcp4:127.0.0.1:{server.getsockname()[1]}"],
                stdin=terminal,
                capture_output=True,
                timeout=TIMEOUT,
            )
        finally:
            os.close(terminal)
            thread.join()
        self.assertEqual((result.returncode, result.stdout), (0, b"bye\n"))

    def test_listenFails(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = subprocess.run(
                [*COMMAND, "listen", f"tx-tcp4:{port}:interface=127.0.0.1"],
                capture_output=True,
                timeout=TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"txendpoints listen: cannot listen on tx-tcp4:", result.stderr)


class ProxyCommandTests(SynchronousTestCase):
    """
    Used as ssh's C{ProxyCommand}, with standard input a pipe from ssh.
    """

    def server(self, converse: Callable[[socket.socket], bytes]) -> tuple[int, Any]:
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def serve() -> bytes:
            conn, _ = listener.accept()
            with conn:
                return converse(conn)

        return listener.getsockname()[1], inThread(serve)

    def test_pipeConversation(self) -> None:
        """
        A parent that talks through our pipes, as ssh does: a line each way
        in turn, then its end of input ends the connection, cleanly.
        """

        def converse(conn: socket.socket) -> bytes:
            heard = b""
            for line in (b"SSH-2.0-server\r\n", b"next\r\n"):
                conn.sendall(line)
                heard += conn.recv(100)
            heard += conn.recv(100)
            return heard

        port, heard = self.server(converse)
        proxy = start("connect", f"tx-host:127.0.0.1:{port}")
        self.addCleanup(proxy.kill)
        assert proxy.stdin and proxy.stdout
        self.assertEqual(proxy.stdout.readline(), b"SSH-2.0-server\r\n")
        proxy.stdin.write(b"SSH-2.0-client\r\n")
        proxy.stdin.flush()
        self.assertEqual(proxy.stdout.readline(), b"next\r\n")
        proxy.stdin.write(b"bye\r\n")
        proxy.stdin.close()
        self.assertEqual(heard(), b"SSH-2.0-client\r\nbye\r\n")
        self.assertEqual(proxy.stdout.read(), b"")
        self.assertEqual(proxy.wait(TIMEOUT), 0)

    def test_ssh(self) -> None:
        """
        OpenSSH's client, through C{ProxyCommand txendpoints connect
        tx-host:%h:%p}, reads the server's banner and sends its own.
        """
        ssh = shutil.which("ssh")
        if ssh is None:
            self.skipTest("no ssh client")

        def converse(conn: socket.socket) -> bytes:
            conn.sendall(b"SSH-2.0-txendpointsTest\r\n")
            return conn.recv(100)

        port, heard = self.server(converse)
        proxy = " ".join([*COMMAND, "connect", "tx-host:%h:%p"])
        result = subprocess.run(
            [
                ssh,
                "-v",
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                f"ProxyCommand={proxy}",
                "-p",
                str(port),
                "nobody@127.0.0.1",
                "true",
            ],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
        )
        self.assertTrue(heard().startswith(b"SSH-2.0-"))
        self.assertIn(b"remote software version txendpointsTest", result.stderr)


class ClientStringsRealTests(TestCase):
    """
    L{clientStrings} of real ports, Twisted's and ours, gives strings that
    connect to them.
    """

    @inlineCallbacks
    def connectsTo(self, server: str) -> Generator[Deferred[Any], Any, None]:
        from twisted.internet import reactor

        from txendpoints import clientFromString, clientStrings, serverFromString

        accepted: Deferred[None] = Deferred()

        class Accepted(Protocol):
            def connectionMade(self) -> None:
                accepted.callback(None)

        factory = Factory.forProtocol(Accepted)
        port = yield serverFromString(reactor, server).listen(factory)
        self.addCleanup(port.stopListening)
        strings = clientStrings(port)
        self.assertEqual(len(strings), 1)
        protocol = yield clientFromString(reactor, strings[0]).connect(
            Factory.forProtocol(Protocol)
        )
        protocol.transport.loseConnection()
        yield accepted

    def test_twistedPort(self) -> Any:
        return self.connectsTo("tcp:0:interface=127.0.0.1")

    def test_ourPort(self) -> Any:
        skipWithoutIPv6()
        return self.connectsTo("tx-tcp6:0:interface=\\:\\:1")

    def test_wildcard(self) -> Any:
        return self.connectsTo("tx-tcp4:0")
