"""
Real-process tests of the C{tx-stdio} endpoints: a child Python process
serves an echo protocol on its own standard input and output.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Generator
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import (
    Factory,
    ProcessProtocol,
    Protocol,
    connectionDone,
)
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer

from txendpoints import StandardIOServerEndpoint

reactor: Any = _reactor

# The child: MODE and STRING are filled in per test.  It exits 0 only if
# the connection ended cleanly (and, for "stop", after stopListening had
# fired: at once, not once the connection was over).
CHILD = """
import sys
from twisted.internet import reactor
from twisted.internet.endpoints import clientFromString, serverFromString
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

MODE, STRING = {mode!r}, {string!r}
status = {{"code": 1, "lost": False}}

class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)
        if MODE == "stop" and data.endswith(b"quit\\n"):
            port.stopListening().addCallback(stopped)

    def connectionLost(self, reason):
        status["lost"] = True
        if reason.check(ConnectionDone):
            status["code"] = 0
        if MODE == "stop" and not status.get("stopped"):
            status["code"] = 2
        reactor.stop()

@implementer(IHalfCloseableProtocol)
class HalfClose(Echo):
    def readConnectionLost(self):
        self.transport.write(b"bye\\n")
        self.transport.loseConnection()

    def writeConnectionLost(self):
        pass

def stopped(_):
    if status["lost"]:
        status["code"] = 3
    status["stopped"] = True

def listening(p):
    global port
    port = p

def failed(f):
    sys.stderr.write(f.getTraceback())
    reactor.stop()

factory = Factory.forProtocol(HalfClose if MODE == "half" else Echo)
if MODE == "client":
    d = clientFromString(reactor, STRING).connect(factory)
else:
    d = serverFromString(reactor, STRING).listen(factory)
d.addCallbacks(listening, failed)
reactor.run()
sys.exit(status["code"])
"""


class Child(ProcessProtocol):
    """
    Collects a child's output; L{waitFor} fires once enough has arrived.
    """

    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.ended: Deferred[int] = Deferred()
        self.inputClosed: Deferred[None] = Deferred()
        self._waiting: list[tuple[int, Deferred[bytes]]] = []

    def outReceived(self, data: bytes) -> None:
        self.out += data
        ready = [w for w in self._waiting if len(self.out) >= w[0]]
        for w in ready:
            self._waiting.remove(w)
            w[1].callback(self.out)

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def waitFor(self, length: int) -> Deferred[bytes]:
        d: Deferred[bytes] = Deferred()
        self._waiting.append((length, d))
        self.outReceived(b"")
        return d

    def inConnectionLost(self) -> None:
        self.inputClosed.callback(None)

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(reason.value.exitCode)  # type: ignore[union-attr]


class OtherDescriptorsChild(Child):
    """
    A child whose connection is on its descriptors 3 (in) and 4 (out).
    """

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD == 4:
            self.outReceived(data)
        elif childFD == 2:
            self.errReceived(data)


class RealStandardIOTests(TestCase):
    """
    Lines written to the child come back; closing its input ends it
    cleanly with every byte returned.
    """

    timeout = 30

    def spawn(self, mode: str, string: str = "tx-stdio") -> Child:
        child = Child()
        code = CHILD.format(mode=mode, string=string)
        reactor.spawnProcess(
            child, sys.executable, [sys.executable, "-c", code], env=os.environ
        )
        return child

    @inlineCallbacks
    def converse(
        self, mode: str, string: str = "tx-stdio"
    ) -> Generator[Any, Any, Child]:
        child = self.spawn(mode, string)
        expected = b""
        for line in [b"hello\n", b"second line\n", b"\x00\xff binary\n"]:
            child.transport.write(line)  # type: ignore[union-attr]
            expected += line
            got = yield child.waitFor(len(expected))
            self.assertEqual(got, expected)
        return child

    @inlineCallbacks
    def test_server(self) -> Generator[Any, Any, None]:
        child = yield self.converse("server")
        child.transport.closeStdin()
        code = yield child.ended
        self.assertEqual((code, child.err), (0, b""))
        self.assertEqual(child.out, b"hello\nsecond line\n\x00\xff binary\n")

    @inlineCallbacks
    def test_client(self) -> Generator[Any, Any, None]:
        child = yield self.converse("client")
        child.transport.closeStdin()
        code = yield child.ended
        self.assertEqual((code, child.err), (0, b""))
        self.assertEqual(child.out, b"hello\nsecond line\n\x00\xff binary\n")

    @inlineCallbacks
    def test_flushedAtEndOfInput(self) -> Generator[Any, Any, None]:
        """
        Input written all at once and closed at once comes back whole:
        the echo still buffered when input ends is flushed, not dropped.

        We stop reading the child's output until all its input is written,
        so that most of the echo is still in the child's buffer when it
        reads end of input (Twisted's own stdio endpoint returns 64 KiB).
        """
        payload = bytes(range(256)) * 4096
        for mode in ("server", "client"):
            child = self.spawn(mode)
            transport: Any = child.transport
            transport.pauseProducing()
            transport.write(payload)
            transport.closeStdin()
            yield child.inputClosed
            transport.resumeProducing()
            code = yield child.ended
            self.assertEqual((code, child.err), (0, b""))
            self.assertEqual(len(child.out), len(payload))
            self.assertEqual(child.out, payload)

    @inlineCallbacks
    def test_halfClose(self) -> Generator[Any, Any, None]:
        child = yield self.converse("half")
        child.transport.closeStdin()
        code = yield child.ended
        self.assertEqual((code, child.err), (0, b""))
        self.assertTrue(child.out.endswith(b"binary\nbye\n"))

    @inlineCallbacks
    def test_stopListening(self) -> Generator[Any, Any, None]:
        """
        The child stops its port while its input is still open; it exits 0
        only if the Deferred fired at once, before the protocol's
        C{connectionLost}, and the connection then ended cleanly with the
        echo flushed.
        """
        child = yield self.converse("stop")
        child.transport.write(b"quit\n")
        code = yield child.ended
        self.assertEqual((code, child.err), (0, b""))
        self.assertTrue(child.out.endswith(b"binary\nquit\n"))

    @inlineCallbacks
    def test_otherDescriptors(self) -> Generator[Any, Any, None]:
        """
        C{stdin=} and C{stdout=} name the descriptors to use.
        """
        child = OtherDescriptorsChild()
        code = CHILD.format(mode="server", string="tx-stdio:stdin=3:stdout=4")
        transport = reactor.spawnProcess(
            child,
            sys.executable,
            [sys.executable, "-c", code],
            env=os.environ,
            childFDs={0: "w", 1: "r", 2: "r", 3: "w", 4: "r"},
        )
        transport.writeToChild(3, b"on three\n")
        got = yield child.waitFor(9)
        self.assertEqual(got, b"on three\n")
        transport.closeChildFD(3)
        code = yield child.ended
        self.assertEqual((code, child.err, child.out), (0, b"", b"on three\n"))


class Lost(Protocol):
    """
    A protocol whose L{lost} fires once it has seen C{connectionLost}.
    """

    def __init__(self) -> None:
        self.lost: Deferred[None] = Deferred()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(None)


def stopAndWait(port: Any, protocol: Lost) -> Deferred[None]:
    """
    Stop a standard-I/O port and wait until its connection is over, before
    a test closes the descriptors.
    """
    port.stopListening()
    return protocol.lost


class RealDescriptorModeTests(TestCase):
    """
    The descriptors go back to the blocking mode they were found in.
    """

    @inlineCallbacks
    def test_blockingRestored(self) -> Generator[Any, Any, None]:
        inRead, inWrite = os.pipe()
        outRead, outWrite = os.pipe()
        for fd in (inRead, inWrite, outRead, outWrite):
            self.addCleanup(os.close, fd)

        def nonBlocking(fd: int) -> bool:
            return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)

        protocol = Lost()
        endpoint = StandardIOServerEndpoint(reactor, inRead, outWrite)
        port = yield endpoint.listen(Factory.forProtocol(lambda: protocol))
        self.assertEqual((nonBlocking(inRead), nonBlocking(outWrite)), (True, True))
        yield port.stopListening()
        yield protocol.lost
        self.assertEqual((nonBlocking(inRead), nonBlocking(outWrite)), (False, False))


@implementer(IHalfCloseableProtocol)
class SayAndHalfClose(Lost):
    """
    Writes a word, closes its output and keeps reading.
    """

    def __init__(self) -> None:
        super().__init__()
        self.outputClosed: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(b"word")  # type: ignore[union-attr]
        self.transport.loseWriteConnection()  # type: ignore[union-attr]

    def readConnectionLost(self) -> None:
        self.transport.loseConnection()  # type: ignore[union-attr]

    def writeConnectionLost(self) -> None:
        self.outputClosed.callback(None)


class RealHalfCloseTests(TestCase):
    """
    Closing the output half is seen by whoever reads it, while the input
    stays open: as C{shutdown(SHUT_WR)} on a socket, or socat's C{-}.
    """

    @inlineCallbacks
    def test_readerSeesEndOfOutput(self) -> Generator[Any, Any, None]:
        inRead, inWrite = os.pipe()
        outRead, outWrite = os.pipe()
        for fd in (inRead, inWrite, outRead, outWrite):
            self.addCleanup(os.close, fd)
        os.set_blocking(outRead, False)
        protocol = SayAndHalfClose()
        endpoint = StandardIOServerEndpoint(reactor, inRead, outWrite)
        port = yield endpoint.listen(Factory.forProtocol(lambda: protocol))
        self.addCleanup(stopAndWait, port, protocol)
        yield protocol.outputClosed
        self.assertEqual(os.read(outRead, 100), b"word")
        # End of file, not "nothing yet" (BlockingIOError).
        self.assertEqual(os.read(outRead, 100), b"")
        self.assertFalse(port.transport.disconnected)
        # The descriptor number stays valid, so nothing else is handed it.
        os.fstat(outWrite)


# The child for the terminal test: serves on its standard input and output,
# both the slave of one pty (so one open file description), until it reads
# "quit"; then reports on standard error whether that description was left
# non-blocking.
TERMINAL_CHILD = """
import fcntl, os, sys
from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol
from txendpoints import StandardIOServerEndpoint

class Quit(Protocol):
    def dataReceived(self, data):
        if b"quit" in data:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        reactor.stop()

StandardIOServerEndpoint(reactor).listen(Factory.forProtocol(Quit))
reactor.run()
blocking = not fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK
sys.stderr.write("blocking" if blocking else "non-blocking")
"""


class RealTerminalModeTests(SynchronousTestCase):
    """
    On a terminal, standard input and output share one open file
    description, and with it one O_NONBLOCK flag: it must be blocking again
    when the endpoint is done, or the shell's next program gets EAGAIN.
    """

    def test_blockingRestored(self) -> None:
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        try:
            child = subprocess.Popen(
                [sys.executable, "-c", TERMINAL_CHILD],
                stdin=slave,
                stdout=slave,
                stderr=subprocess.PIPE,
            )
        finally:
            os.close(slave)
        self.addCleanup(child.kill)
        os.write(master, b"quit\n")
        assert child.stderr is not None
        self.assertEqual(child.stderr.read(), b"blocking")
        self.assertEqual(child.wait(30), 0)
