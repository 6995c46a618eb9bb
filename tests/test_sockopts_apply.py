"""
Tests for L{txendpoints._sockopts._apply}: the C{setsockopt} calls each
socket gets, and Multipath TCP with its fallback.
"""

from __future__ import annotations

import errno
import socket
from typing import Any, cast

from twisted.logger import ILogObserver, LogLevel, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import TCPOptions
from txendpoints._sockopts import _apply
from txendpoints._sockopts._apply import (
    apply,
    createSocket,
    multipathWorks,
    perConnection,
    socketSettings,
)
from txendpoints._sockopts._options import _CONSTANTS

from ._listenfakes import FakeSocket, makeFakeSocket

TCP = socket.IPPROTO_TCP
SOL = socket.SOL_SOCKET


def const(name: str) -> int:
    value = _CONSTANTS[name]
    assert value is not None
    return value


EVERY = TCPOptions(
    noDelay=True,
    keepIdle=60,
    keepInterval=5,
    keepCount=4,
    userTimeout=2.0005,
    bindDevice="lo",
    receiveBuffer=65536,
    sendBuffer=1 << 20,
    multipath=True,
)


class SettingsTests(SynchronousTestCase):
    """
    Which options go where, in which order.
    """

    def test_perConnection(self) -> None:
        """
        The options a kernel may not copy to an accepted socket; the user
        timeout is rounded up to a millisecond.
        """
        self.assertEqual(
            perConnection(EVERY),
            [
                (TCP, const("TCP_NODELAY"), 1),
                (SOL, const("SO_KEEPALIVE"), 1),
                (TCP, const("TCP_KEEPIDLE"), 60),
                (TCP, const("TCP_KEEPINTVL"), 5),
                (TCP, const("TCP_KEEPCNT"), 4),
                (TCP, const("TCP_USER_TIMEOUT"), 2001),
            ],
        )
        self.assertEqual(perConnection(TCPOptions()), [])
        self.assertEqual(
            perConnection(TCPOptions(noDelay=False, keepAlive=False)),
            [(TCP, const("TCP_NODELAY"), 0), (SOL, const("SO_KEEPALIVE"), 0)],
        )

    def test_exactMilliseconds(self) -> None:
        """
        A timeout that is a whole number of milliseconds is not rounded up
        by the float error of multiplying it.
        """
        self.assertEqual(perConnection(TCPOptions(userTimeout=0.001))[-1][2], 1)
        self.assertEqual(perConnection(TCPOptions(userTimeout=2.3))[-1][2], 2300)

    def test_server(self) -> None:
        settings = socketSettings(TCPOptions(fastOpen=256, **_fields(EVERY)), "server")
        self.assertEqual(
            settings[:3],
            [
                (SOL, const("SO_BINDTODEVICE"), b"lo"),
                (SOL, const("SO_RCVBUF"), 65536),
                (SOL, const("SO_SNDBUF"), 1 << 20),
            ],
        )
        self.assertEqual(settings[3:-1], perConnection(EVERY))
        self.assertEqual(settings[-1], (TCP, const("TCP_FASTOPEN"), 256))

    def test_client(self) -> None:
        settings = socketSettings(
            TCPOptions(fastOpen=True, noDelay=True), "client", True, True
        )
        self.assertEqual(
            settings,
            [
                (SOL, const("SO_REUSEADDR"), 1),
                (SOL, const("SO_REUSEPORT"), 1),
                (TCP, const("TCP_NODELAY"), 1),
                (TCP, const("TCP_FASTOPEN_CONNECT"), 1),
            ],
        )
        self.assertEqual(socketSettings(TCPOptions(fastOpen=False), "client"), [])

    def test_apply(self) -> None:
        sock = FakeSocket(socket.AF_INET, socket.SOCK_STREAM)
        apply(sock, perConnection(EVERY))
        self.assertEqual(sock.options, perConnection(EVERY))

    def test_applyNamesRefused(self) -> None:
        """
        The kernel's refusal names the option, which its message does not.
        """

        class Refusing(FakeSocket):
            def setsockopt(self, level: int, name: int, value: int | bytes) -> None:
                if name == const("TCP_USER_TIMEOUT"):
                    raise OSError(errno.ENOPROTOOPT, "Protocol not available")
                super().setsockopt(level, name, value)

        sock = Refusing(socket.AF_INET, socket.SOCK_STREAM)
        with self.assertRaises(OSError) as e:
            apply(sock, perConnection(EVERY))
        self.assertEqual(e.exception.errno, errno.ENOPROTOOPT)
        self.assertEqual(
            e.exception.strerror, "Protocol not available (setting TCP_USER_TIMEOUT)"
        )


def _fields(options: TCPOptions) -> dict[str, Any]:
    return dict(options.given())


class MultipathTests(SynchronousTestCase):
    """
    L{createSocket} asks for Multipath TCP, and falls back to TCP, logged
    once, where the kernel refuses it.
    """

    def setUp(self) -> None:
        FakeSocket.reset()
        self.patch(_apply, "_fellBack", [])
        self.logged: list[dict[str, Any]] = []
        observer = cast(ILogObserver, self.logged.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)

    def test_plain(self) -> None:
        sock = cast(Any, createSocket(socket.AF_INET6, TCPOptions(), makeFakeSocket))
        self.assertEqual((sock.family, sock.proto), (socket.AF_INET6, 0))

    def test_multipath(self) -> None:
        sock = cast(
            Any,
            createSocket(socket.AF_INET, TCPOptions(multipath=True), makeFakeSocket),
        )
        self.assertEqual(sock.proto, const("IPPROTO_MPTCP"))

    def test_fallback(self) -> None:
        refusing = _refusing(errno.EPROTONOSUPPORT)
        for _ in range(2):
            sock = cast(
                Any, createSocket(socket.AF_INET, TCPOptions(multipath=True), refusing)
            )
            self.assertEqual(sock.proto, 0)
        warnings = [e for e in self.logged if e.get("log_level") == LogLevel.warn]
        self.assertEqual(len(warnings), 1)
        self.assertIn("refuses Multipath TCP", warnings[0]["log_format"])

    def test_otherErrors(self) -> None:
        """
        Running out of descriptors is no reason to fall back.
        """
        with self.assertRaises(OSError):
            createSocket(
                socket.AF_INET, TCPOptions(multipath=True), _refusing(errno.EMFILE)
            )

    def test_works(self) -> None:
        self.assertTrue(multipathWorks(makeFakeSocket))
        self.assertFalse(multipathWorks(_refusing(errno.EPROTONOSUPPORT)))


def _refusing(code: int) -> Any:
    def make(family: int, type: int, proto: int = 0) -> FakeSocket:
        if proto:
            raise OSError(code, "refused")
        return FakeSocket(family, type, proto)

    return make
