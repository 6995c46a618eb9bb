"""
Tests for L{txendpoints._server._ports}: several addresses as one
L{ListeningPorts}.
"""

from __future__ import annotations

import errno
from typing import cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactor
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from txendpoints import ListeningPorts
from txendpoints._server._ports import listenAll
from txendpoints._server._socket import ListenAddress

from ._listenfakes import (
    FakePort,
    FakeSocket,
    PortReactor,
    makeFakeSocket,
)


class ListeningPortsTests(SynchronousTestCase):
    """
    L{ListeningPorts} starts, stops and reports several ports as one.
    """

    def setUp(self) -> None:
        self.a = FakePort(IPv4Address("TCP", "127.0.0.1", 80))
        self.b = FakePort(IPv6Address("TCP", "::1", 80))
        self.ports = ListeningPorts([self.a, self.b])

    def test_provides(self) -> None:
        self.assertTrue(verifyObject(IListeningPort, self.ports))

    def test_hosts(self) -> None:
        self.assertEqual(self.ports.getHost(), IPv4Address("TCP", "127.0.0.1", 80))
        self.assertEqual(
            self.ports.getHosts(),
            [IPv4Address("TCP", "127.0.0.1", 80), IPv6Address("TCP", "::1", 80)],
        )

    def test_startListening(self) -> None:
        """
        Ports gathered by the caller are each started again after a stop.
        """
        self.successResultOf(self.stopAll())
        self.ports.startListening()
        self.assertEqual((self.a.started, self.b.started), (1, 1))
        self.assertNotIn("not listening", repr(self.ports))

    def test_startWhileListening(self) -> None:
        """
        Starting while listening opens nothing more (a Twisted C{Port} would
        open a second socket and lose track of the first).
        """
        self.ports.startListening()
        self.assertEqual((self.a.started, self.b.started), (0, 0))

    def test_startFailureStopsTheStarted(self) -> None:
        """
        If one port cannot start again, those started before it are stopped
        and its error is raised.
        """
        self.successResultOf(self.stopAll())
        self.b.failStart = CannotListenError("::1", 80, OSError(98, "in use"))
        self.assertRaises(CannotListenError, self.ports.startListening)
        self.assertEqual((self.a.started, self.a.stops), (1, 2))
        assert self.a.stopping is not None
        self.a.stopping.callback(None)
        self.assertIn("(not listening)", repr(self.ports))

    def test_stopWaitsForAll(self) -> None:
        d = self.ports.stopListening()
        assert self.a.stopping is not None and self.b.stopping is not None
        self.b.stopping.callback(None)
        self.assertNoResult(d)
        self.a.stopping.callback(None)
        self.assertIsNone(self.successResultOf(d))

    def test_stopFailure(self) -> None:
        """
        A port that fails to stop fails the whole stop, but only once every
        port has stopped.
        """
        d = self.ports.stopListening()
        assert self.a.stopping is not None and self.b.stopping is not None
        self.a.stopping.errback(RuntimeError("stuck"))
        self.assertNoResult(d)
        self.b.stopping.callback(None)
        self.failureResultOf(d, RuntimeError)

    def test_stopSynchronousPorts(self) -> None:
        """
        Ports whose C{stopListening} returns L{None} (as Twisted's fakes do)
        are stopped at once.
        """
        reactor = MemoryReactor()
        factory = Factory.forProtocol(Protocol)
        ports = ListeningPorts(
            [reactor.listenTCP(80, factory), reactor.listenTCP(81, factory)]
        )
        self.assertIsNone(self.successResultOf(ports.stopListening()))

    def test_repr(self) -> None:
        self.assertEqual(
            repr(self.ports),
            "<ListeningPorts on IPv4Address(type='TCP', host='127.0.0.1', "
            "port=80), IPv6Address(type='TCP', host='::1', port=80, "
            "flowInfo=0, scopeID=0)>",
        )

    def stopAll(self) -> Deferred[None]:
        d = self.ports.stopListening()
        assert self.a.stopping is not None and self.b.stopping is not None
        self.a.stopping.callback(None)
        self.b.stopping.callback(None)
        return d

    def test_reprStopped(self) -> None:
        """
        A stopped L{ListeningPorts} still has a repr, though its ports can no
        longer say where they were.
        """
        self.successResultOf(self.stopAll())
        self.assertEqual(
            repr(self.ports),
            "<ListeningPorts on IPv4Address(type='TCP', host='127.0.0.1', "
            "port=80), IPv6Address(type='TCP', host='::1', port=80, "
            "flowInfo=0, scopeID=0) (not listening)>",
        )
        self.assertEqual(self.ports.getHost(), IPv4Address("TCP", "127.0.0.1", 80))

    def test_stopAgainWhileStopping(self) -> None:
        """
        A second stop while the first is under way does not stop the ports
        again (Twisted's C{Port} would fail); it fires when they have stopped.
        """
        first = self.ports.stopListening()
        second = self.ports.stopListening()
        self.assertEqual((self.a.stops, self.b.stops), (1, 1))
        self.assertNoResult(second)
        assert self.a.stopping is not None and self.b.stopping is not None
        self.a.stopping.callback(None)
        self.b.stopping.errback(RuntimeError("stuck"))
        self.failureResultOf(first, RuntimeError)
        # The failure is the first caller's to handle, not reported twice.
        self.assertIsNone(self.successResultOf(second))

    def test_stopAgainWhenStopped(self) -> None:
        self.successResultOf(self.stopAll())
        self.assertIsNone(self.successResultOf(self.ports.stopListening()))
        self.assertEqual((self.a.stops, self.b.stops), (1, 1))


class ListenAllTests(SynchronousTestCase):
    """
    L{listenAll} listens on every address as one port, or on none.
    """

    def setUp(self) -> None:
        FakeSocket.reset()
        self.addCleanup(FakeSocket.reset)
        self.reactor = PortReactor()
        self.factory = Factory.forProtocol(Protocol)

    def listenAll(
        self, addresses: list[ListenAddress], port: int = 0
    ) -> Deferred[ListeningPorts]:
        return listenAll(
            self.reactor, addresses, port, self.factory, 50, False, makeFakeSocket
        )

    def test_portZeroShared(self) -> None:
        """
        With port 0, the number the first address got is asked for the rest.
        """
        ports = self.successResultOf(
            self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        )
        self.assertEqual([args[0] for args in self.reactor.tcpServers], [0, 40001])
        self.assertEqual(
            ports.getHosts(),
            [IPv4Address("TCP", "127.0.0.1", 40001), IPv6Address("TCP", "::1", 40001)],
        )

    def test_fixedPort(self) -> None:
        self.successResultOf(
            self.listenAll(
                [ListenAddress("10.0.0.1", 4), ListenAddress("10.0.0.2", 4)], 8080
            )
        )
        self.assertEqual(
            [(a[0], a[3]) for a in self.reactor.tcpServers],
            [(8080, "10.0.0.1"), (8080, "10.0.0.2")],
        )

    def test_partialFailureClosesOthers(self) -> None:
        """
        When one address fails, the ports already open are stopped, and only
        then does the Deferred fail with that address's own error.
        """
        refused = OSError(errno.EADDRINUSE, "Address already in use")
        self.reactor.refuse[("::1", 8080)] = refused
        d = self.listenAll(
            [
                ListenAddress("127.0.0.1", 4),
                ListenAddress("::1", 6),
                ListenAddress("10.0.0.1", 4),
            ],
            8080,
        )
        [first] = self.reactor.ports
        self.assertEqual(len(self.reactor.tcpServers), 2)
        self.assertNoResult(d)
        assert first.stopping is not None
        first.stopping.callback(None)
        error = self.failureResultOf(d, CannotListenError).value
        self.assertEqual(
            str(error),
            "Couldn't listen on ::1:8080: [Errno 98] Address already in use.",
        )
        self.assertIs(error.socketError, refused)

    def test_portZeroTakenElsewhere(self) -> None:
        """
        With port 0, a number the kernel gave the first address that is in
        use on a later one is given back, and the kernel asked again.
        """
        self.reactor.refuse[("::1", 40001)] = OSError(errno.EADDRINUSE, "in use")
        d = self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        self.assertNoResult(d)
        first = self.reactor.ports[0]
        assert first.stopping is not None
        first.stopping.callback(None)
        ports = self.successResultOf(d)
        self.assertEqual(
            ports.getHosts(),
            [IPv4Address("TCP", "127.0.0.1", 40002), IPv6Address("TCP", "::1", 40002)],
        )
        self.assertEqual(
            [(a[0], a[3]) for a in self.reactor.tcpServers],
            [(0, "127.0.0.1"), (40001, "::1"), (0, "127.0.0.1"), (40002, "::1")],
        )

    def test_portZeroTriesLimited(self) -> None:
        """
        After five port numbers in use on a later address, the last error
        is delivered.
        """
        for number in range(40001, 40007):
            self.reactor.refuse[("::1", number)] = OSError(
                errno.EADDRINUSE, "Address already in use"
            )
        d = self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        for first in self.reactor.ports:
            assert first.stopping is not None
            first.stopping.callback(None)
        self.assertEqual(len(self.reactor.ports), 5)
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on ::1:40005: [Errno 98] Address already in use.",
        )

    def stopped(self, ports: ListeningPorts) -> None:
        d = ports.stopListening()
        for port in ports.ports:
            if isinstance(port, FakePort):
                assert port.stopping is not None
                port.stopping.callback(None)
        self.successResultOf(d)

    def test_startAgainShared(self) -> None:
        """
        Started again after a stop, port 0 gives every address one new
        number, as the first listen did, not one each.
        """
        ports = self.successResultOf(
            self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        )
        self.stopped(ports)
        ports.startListening()
        self.assertEqual(
            [args[0] for args in self.reactor.tcpServers], [0, 40001, 0, 40002]
        )
        self.assertEqual(
            [cast(IPv4Address, h).port for h in ports.getHosts()], [40002, 40002]
        )
        self.assertEqual(ports.ports, tuple(self.reactor.ports[2:]))

    def test_startAgainAdopted(self) -> None:
        """
        Adopted sockets (here tx-host's wildcard) are made, bound and adopted
        again: Twisted's C{Port} cannot re-create a socket it was given.
        """
        ports = self.successResultOf(
            self.listenAll(
                [ListenAddress("", 4), ListenAddress("::", 6, True, optional=True)],
                8080,
            )
        )
        self.stopped(ports)
        for port in ports.ports[1:]:
            self.patch(port, "startListening", lambda: 1 // 0)
        ports.startListening()
        self.assertEqual(len(self.reactor.adoptedPorts), 2)
        self.assertEqual(
            [sock.bound for sock in FakeSocket.made],
            [("::", 8080, 0, 0), ("::", 8080, 0, 0)],
        )

    def test_startAgainRetriesPortZero(self) -> None:
        """
        A new number the kernel gave the first address that is taken on a
        later one is given back, and another asked for.
        """
        ports = self.successResultOf(
            self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        )
        self.stopped(ports)
        self.reactor.refuse[("::1", 40002)] = OSError(errno.EADDRINUSE, "in use")
        ports.startListening()
        self.assertEqual(self.reactor.ports[2].stops, 1)
        self.assertEqual(
            [cast(IPv4Address, h).port for h in ports.getHosts()], [40003, 40003]
        )

    def test_startAgainFailureRollsBack(self) -> None:
        """
        If a later address cannot listen again, the ports opened again
        before it are stopped and its error is raised.
        """
        ports = self.successResultOf(
            self.listenAll(
                [ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)], 8080
            )
        )
        self.stopped(ports)
        self.reactor.refuse[("::1", 8080)] = OSError(errno.EADDRINUSE, "in use")
        error = self.assertRaises(CannotListenError, ports.startListening)
        self.assertEqual(error.interface, "::1")
        self.assertEqual([p.stops for p in self.reactor.ports], [1, 1, 1])
        self.assertIn("(not listening)", repr(ports))

    def test_wildcardNamed(self) -> None:
        """
        When tx-host's IPv4 wildcard cannot listen, the error names it, where
        the reactor's says C{any:80}.
        """
        self.reactor.refuse[("", 80)] = OSError(errno.EADDRINUSE, "in use")
        d = self.listenAll(
            [ListenAddress("", 4), ListenAddress("::", 6, True, optional=True)], 80
        )
        error = self.failureResultOf(d, CannotListenError).value
        self.assertEqual(
            str(error),
            "Couldn't listen on 0.0.0.0 (every IPv4 interface) port 80: "
            "[Errno 98] in use.",
        )
        self.assertEqual(error.interface, "")

    def test_cancelWhileClosingAfterFailure(self) -> None:
        """
        Cancelling while the ports opened are being closed after a failure
        fails at once with L{CancelledError}, but does not cut the closing
        short.
        """
        self.reactor.refuse[("::1", 80)] = OSError(errno.EADDRINUSE, "in use")
        d = self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)], 80)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        stopping = self.reactor.ports[0].stopping
        assert stopping is not None
        self.assertFalse(stopping.called)
        stopping.callback(None)
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_cancelWhileClosingBeforeRetry(self) -> None:
        """
        Cancelling while the ports of a port-0 attempt are being given back
        stops there: no new attempt is made once they are closed.
        """
        self.reactor.refuse[("::1", 40001)] = OSError(errno.EADDRINUSE, "in use")
        d = self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        d.cancel()
        self.failureResultOf(d, CancelledError)
        stopping = self.reactor.ports[0].stopping
        assert stopping is not None
        self.assertFalse(stopping.called)
        stopping.callback(None)
        self.assertEqual(len(self.reactor.tcpServers), 2)
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_closeFailureLogged(self) -> None:
        """
        If closing the open ports fails too, that is logged and the listen
        error is still the one delivered.
        """
        self.reactor.refuse[("::1", 40001)] = OSError(errno.EADDRNOTAVAIL, "nope")
        d = self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        stopping = self.reactor.ports[0].stopping
        assert stopping is not None
        stopping.errback(RuntimeError("stuck"))
        self.failureResultOf(d, CannotListenError)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_otherErrorClosesOthers(self) -> None:
        """
        An unexpected exception from the reactor also closes the open ports
        and then arrives unchanged.
        """
        listenTCP = self.reactor.listenTCP

        def brokenForIPv6(port: int, factory: object, **kwargs: str) -> FakePort:
            if ":" in kwargs["interface"]:
                raise ZeroDivisionError()
            return listenTCP(port, factory, **kwargs)  # type: ignore[arg-type]

        self.patch(self.reactor, "listenTCP", brokenForIPv6)
        d = self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        self.assertNoResult(d)
        stopping = self.reactor.ports[0].stopping
        assert stopping is not None
        stopping.callback(None)
        self.failureResultOf(d, ZeroDivisionError)

    def test_firstFailsNothingToClose(self) -> None:
        self.reactor.refuse[("127.0.0.1", 0)] = OSError(errno.EACCES, "denied")
        d = self.listenAll([ListenAddress("127.0.0.1", 4), ListenAddress("::1", 6)])
        self.failureResultOf(d, CannotListenError)
        self.assertEqual(len(self.reactor.tcpServers), 1)

    def test_optionalSkipped(self) -> None:
        """
        An optional address whose family this host lacks is left out.
        """
        FakeSocket.failCreate = OSError(errno.EAFNOSUPPORT, "no IPv6")
        ports = self.successResultOf(
            self.listenAll(
                [ListenAddress("", 4), ListenAddress("::", 6, True, optional=True)]
            )
        )
        self.assertEqual(ports.getHosts(), [IPv4Address("TCP", "0.0.0.0", 40001)])

    def test_optionalOtherErrorFails(self) -> None:
        FakeSocket.failBind = OSError(errno.EADDRINUSE, "Address already in use")
        d = self.listenAll(
            [ListenAddress("", 4), ListenAddress("::", 6, True, optional=True)], 80
        )
        stopping = self.reactor.ports[0].stopping
        assert stopping is not None
        stopping.callback(None)
        self.failureResultOf(d, CannotListenError)

    def test_allOptionalSkipped(self) -> None:
        FakeSocket.failCreate = OSError(errno.EAFNOSUPPORT, "no IPv6")
        d = self.listenAll([ListenAddress("::", 6, True, optional=True)], 80)
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on [::] (every IPv6 interface) port 80: this host "
            "supports none of its families.",
        )
