"""
Tests for L{txendpoints._server._startup} and for listening before the
reactor runs, as twistd, twist and C{strports.service} do.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from twisted.application import strports
from twisted.internet._resolver import GAIResolver
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import HostServerEndpoint, TCP4ServerEndpoint, TCP6ServerEndpoint
from txendpoints._server._endpoints import _TCPServerEndpoint
from txendpoints._server._ports import listenAll
from txendpoints._server._socket import ListenAddress
from txendpoints._server._startup import resolveBeforeRunning
from txendpoints.testing import FakeResolver

from ._listenfakes import FakeSocket, PortReactor, makeFakeSocket

_IN_USE = OSError(errno.EADDRINUSE, "Address already in use")


class _Pool:
    """
    A thread pool that only records the work it is given.
    """

    def __init__(self) -> None:
        self.work: list[object] = []

    def callInThreadWithCallback(self, onResult: object, f: object, *a: object) -> None:
        self.work.append(f)


class BeforeRunningFixture(SynchronousTestCase):
    """
    A reactor that has not started, with Twisted's default resolver over a
    fake C{getaddrinfo} and a thread pool that never runs anything.
    """

    answers: dict[str, list[tuple[int, tuple[Any, ...]]]] = {
        "localhost": [
            (socket.AF_INET6, ("::1", 80, 0, 0)),
            (socket.AF_INET, ("127.0.0.1", 80)),
            (socket.AF_INET, ("127.0.0.1", 80)),
        ],
        "v4only": [(socket.AF_INET, ("127.0.0.1", 80))],
    }

    def setUp(self) -> None:
        FakeSocket.reset()
        self.addCleanup(FakeSocket.reset)
        self.patch(_TCPServerEndpoint, "_makeSocket", makeFakeSocket)
        self.reactor = PortReactor()
        self.reactor.running = False
        self.pool = _Pool()
        self.asked: list[tuple[object, ...]] = []
        self.reactor.installNameResolver(
            GAIResolver(self.reactor, lambda: self.pool, self.getaddrinfo)  # type: ignore[arg-type, return-value]
        )
        self.factory = Factory.forProtocol(Protocol)

    def getaddrinfo(
        self, host: str, port: int, family: int, socktype: int
    ) -> list[tuple[Any, ...]]:
        self.asked.append((host, port, family, socktype))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (answerFamily, socktype, 6, "", sockaddr)
            for answerFamily, sockaddr in self.answers[host]
            if family in (socket.AF_UNSPEC, answerFamily)
        ]


class ResolveBeforeRunningTests(BeforeRunningFixture):
    """
    L{resolveBeforeRunning} asks Twisted's default resolver's own
    C{getaddrinfo} in the calling thread, and only before the reactor runs.
    """

    def test_answers(self) -> None:
        self.assertEqual(
            resolveBeforeRunning(self.reactor, "localhost", 80, (4, 6)),
            [IPv6Address("TCP", "::1", 80), IPv4Address("TCP", "127.0.0.1", 80)],
        )
        self.assertEqual(
            resolveBeforeRunning(self.reactor, "localhost", 80, (4,)),
            [IPv4Address("TCP", "127.0.0.1", 80)],
        )
        self.assertEqual(
            self.asked,
            [
                ("localhost", 80, socket.AF_UNSPEC, socket.SOCK_STREAM),
                ("localhost", 80, socket.AF_INET, socket.SOCK_STREAM),
            ],
        )
        self.assertEqual(self.pool.work, [])

    def test_unknownName(self) -> None:
        """
        A name that does not resolve has no addresses, as L{GAIResolver}
        reports it.
        """
        self.assertEqual(resolveBeforeRunning(self.reactor, "nowhere", 80, (4,)), [])

    def test_running(self) -> None:
        self.reactor.running = True
        self.assertIsNone(resolveBeforeRunning(self.reactor, "localhost", 80, (4,)))
        self.assertEqual(self.asked, [])

    def test_otherResolver(self) -> None:
        self.reactor.installNameResolver(FakeResolver(self.reactor, {}))
        self.assertIsNone(resolveBeforeRunning(self.reactor, "localhost", 80, (4,)))


class ListenBeforeRunningTests(BeforeRunningFixture):
    """
    Before the reactor runs, a listen on a host name has its outcome when
    C{listen} returns, as a literal's does, so that twistd and twist can
    exit at start-up when it fails.
    """

    def test_failsAtOnce(self) -> None:
        self.reactor.refuse[("127.0.0.1", 80)] = _IN_USE
        d = TCP4ServerEndpoint(self.reactor, 80, interface="localhost").listen(
            self.factory
        )
        error = self.failureResultOf(d, CannotListenError).value
        self.assertIs(error.socketError, _IN_USE)
        self.assertEqual(self.pool.work, [])

    def test_listensAtOnce(self) -> None:
        d = TCP4ServerEndpoint(self.reactor, 80, interface="localhost").listen(
            self.factory
        )
        ports = self.successResultOf(d)
        self.assertEqual(ports.getHost(), IPv4Address("TCP", "127.0.0.1", 80))

    def test_noAddressInFamily(self) -> None:
        d = TCP6ServerEndpoint(self.reactor, 80, interface="v4only").listen(
            self.factory
        )
        self.assertIn(
            "v4only has no IPv6 address",
            str(self.failureResultOf(d, CannotListenError).value),
        )

    def test_laterAddressFailsAtOnce(self) -> None:
        """
        When a later address fails, the failure does not wait for the ports
        already open to finish closing, which needs the reactor to run.
        """
        self.reactor.refuse[("127.0.0.1", 80)] = _IN_USE
        d = HostServerEndpoint(self.reactor, 80, interface="localhost").listen(
            self.factory
        )
        self.failureResultOf(d, CannotListenError)
        [opened] = self.reactor.ports
        self.assertEqual(opened.getHost(), IPv6Address("TCP", "::1", 80))
        self.assertEqual(opened.stops, 1)
        assert opened.stopping is not None
        self.assertFalse(opened.stopping.called)

    def test_portZeroRetriedAtOnce(self) -> None:
        self.reactor.refuse[("::1", 40001)] = _IN_USE
        d = listenAll(
            self.reactor,
            [ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)],
            0,
            self.factory,
            50,
        )
        ports = self.successResultOf(d)
        self.assertEqual([h.port for h in ports.getHosts()], [40002, 40002])  # type: ignore[attr-defined]
        self.assertEqual(self.reactor.ports[0].stops, 1)

    def test_strportsService(self) -> None:
        """
        C{strports.service(...).privilegedStartService()}, which twistd and
        twist call before the reactor runs, raises the listen's error.
        """
        self.reactor.refuse[("127.0.0.1", 80)] = _IN_USE
        service = strports.service(
            "tx-tcp4:80:interface=localhost", self.factory, reactor=self.reactor
        )
        self.assertRaises(CannotListenError, service.privilegedStartService)
