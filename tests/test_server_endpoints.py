"""
Tests for the TCP server endpoints in L{txendpoints._server._endpoints}.
"""

from __future__ import annotations

import errno
import socket

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import CancelledError
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactor, RaisingMemoryReactor
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from txendpoints import (
    HostServerEndpoint,
    ListeningPorts,
    TCP4ServerEndpoint,
    TCP6ServerEndpoint,
    describe,
)
from txendpoints._server._endpoints import _TCPServerEndpoint
from txendpoints.testing import FakeResolution, FakeResolver

from ._listenfakes import (
    REUSEPORT,
    V6ONLY,
    FakeSocket,
    PortReactor,
    TCPOnly,
    makeFakeSocket,
)


class TCPServerEndpointTests(SynchronousTestCase):
    """
    The TCP server endpoints listen through C{reactor.listenTCP}.
    """

    def test_provides(self) -> None:
        reactor = MemoryReactor()
        self.assertTrue(
            verifyObject(IStreamServerEndpoint, TCP4ServerEndpoint(reactor, 0))
        )
        self.assertTrue(
            verifyObject(IStreamServerEndpoint, TCP6ServerEndpoint(reactor, 0))
        )

    def test_listenArguments(self) -> None:
        reactor = MemoryReactor()
        factory = Factory.forProtocol(Protocol)
        d = TCP6ServerEndpoint(reactor, 8080, 10, "::1").listen(factory)
        self.assertEqual(reactor.tcpServers, [(8080, factory, 10, "::1")])
        port = self.successResultOf(d)
        self.assertEqual(port.getHost().port, 8080)  # type: ignore[attr-defined]

    def test_defaults(self) -> None:
        reactor = MemoryReactor()
        factory = Factory.forProtocol(Protocol)
        TCP4ServerEndpoint(reactor, 80).listen(factory)
        TCP6ServerEndpoint(reactor, 80).listen(factory)
        self.assertEqual(
            reactor.tcpServers, [(80, factory, 50, ""), (80, factory, 50, "::")]
        )

    def test_failureArrivesThroughDeferred(self) -> None:
        """
        A C{CannotListenError} raised at once by the reactor arrives as the
        Deferred's failure, not as an exception from C{listen}.
        """
        error = CannotListenError("::1", 80, OSError("in use"))
        reactor = RaisingMemoryReactor(listenException=error)
        d = TCP6ServerEndpoint(reactor, 80, interface="::1").listen(Factory())
        self.assertIs(self.failureResultOf(d, CannotListenError).value, error)

    def test_repr(self) -> None:
        reactor = MemoryReactor()
        self.assertEqual(
            repr(TCP6ServerEndpoint(reactor, 8080, 10, "::1")),
            "<TCP6ServerEndpoint tx-tcp6:8080:backlog=10:interface=\\:\\:1>",
        )
        self.assertEqual(
            repr(TCP4ServerEndpoint(reactor, 0)), "<TCP4ServerEndpoint tx-tcp4:0>"
        )
        self.assertEqual(
            repr(
                TCP6ServerEndpoint(
                    reactor, 80, interface="fe80::1%lo", ipv6Only=False, reusePort=True
                )
            ),
            "<TCP6ServerEndpoint tx-tcp6:80:interface=fe80\\:\\:1%lo:"
            "ipv6Only=no:reusePort=yes>",
        )
        self.assertEqual(
            repr(
                TCP4ServerEndpoint(reactor, 80, interface="localhost", reusePort=True)
            ),
            "<TCP4ServerEndpoint tx-tcp4:80:interface=localhost:reusePort=yes>",
        )

    def test_describeAndEquality(self) -> None:
        reactor = MemoryReactor()
        endpoint = TCP4ServerEndpoint(reactor, 80, interface="127.0.0.1")
        self.assertEqual(describe(endpoint), "tx-tcp4:80:interface=127.0.0.1")
        self.assertEqual(endpoint, TCP4ServerEndpoint(reactor, 80, 50, "127.0.0.1"))
        self.assertNotEqual(endpoint, TCP4ServerEndpoint(reactor, 81, 50, "127.0.0.1"))
        self.assertNotEqual(
            endpoint, TCP4ServerEndpoint(MemoryReactor(), 80, 50, "127.0.0.1")
        )
        self.assertEqual(
            hash(endpoint), hash(TCP4ServerEndpoint(reactor, 80, 50, "127.0.0.1"))
        )

    def test_describeRejectsOthers(self) -> None:
        with self.assertRaises(TypeError):
            describe(object())


class Fixture(SynchronousTestCase):
    """
    A reactor with a test resolver, and sockets that are only recorded.
    """

    def setUp(self) -> None:
        FakeSocket.reset()
        self.addCleanup(FakeSocket.reset)
        self.patch(_TCPServerEndpoint, "_makeSocket", makeFakeSocket)
        self.reactor = PortReactor()
        self.resolver = FakeResolver(
            self.reactor,
            {
                "localhost": ["127.0.0.1", "::1"],
                "v4only": ["127.0.0.1"],
                "v6only": ["::1"],
                "multi": ["10.0.0.1", "fd00::1", "10.0.0.2", "fd00::2"],
                "slow": ["127.0.0.1"],
            },
            {"slow": 1.0},
        )
        self.reactor.installNameResolver(self.resolver)
        self.factory = Factory.forProtocol(Protocol)

    def interfaces(self) -> list[str]:
        return [args[3] for args in self.reactor.tcpServers]


class HostNameInterfaceTests(Fixture):
    """
    A host name as interface is resolved through C{reactor.nameResolver} in
    the endpoint's families only, and listened on at every address.
    """

    def test_tcp6OnlyIPv6(self) -> None:
        """
        Unlike Twisted's C{tcp6:80:interface=localhost}, which the kernel
        binds to an IPv4 address, ours listens on the IPv6 ones only.
        """
        d = TCP6ServerEndpoint(self.reactor, 80, interface="localhost").listen(
            self.factory
        )
        ports = self.successResultOf(d)
        self.assertIsInstance(ports, ListeningPorts)
        self.assertEqual(self.interfaces(), ["::1"])
        [resolution] = self.resolver.resolutions
        self.assertEqual(
            (resolution.name, resolution.addressTypes), ("localhost", (IPv6Address,))
        )
        self.assertEqual(ports.getHost(), IPv6Address("TCP", "::1", 80))

    def test_tcp4OnlyIPv4(self) -> None:
        d = TCP4ServerEndpoint(self.reactor, 80, interface="multi").listen(self.factory)
        ports = self.successResultOf(d)
        self.assertEqual(self.interfaces(), ["10.0.0.1", "10.0.0.2"])
        self.assertEqual(self.resolver.resolutions[0].addressTypes, (IPv4Address,))
        self.assertEqual(
            ports.getHosts(),  # type: ignore[attr-defined]
            [IPv4Address("TCP", "10.0.0.1", 80), IPv4Address("TCP", "10.0.0.2", 80)],
        )

    def test_hostBothFamilies(self) -> None:
        d = HostServerEndpoint(self.reactor, 0, interface="multi").listen(self.factory)
        ports = self.successResultOf(d)
        self.assertEqual(
            self.interfaces(), ["10.0.0.1", "fd00::1", "10.0.0.2", "fd00::2"]
        )
        self.assertEqual(
            [args[0] for args in self.reactor.tcpServers], [0, 40001, 40001, 40001]
        )
        self.assertEqual(
            {a.port for a in ports.getHosts()},  # type: ignore[attr-defined]
            {40001},
        )
        self.assertEqual(
            self.resolver.resolutions[0].addressTypes, (IPv4Address, IPv6Address)
        )

    def test_noAddressInFamily(self) -> None:
        """
        A name without an address in the endpoint's family fails; it never
        falls back to the other family.
        """
        d = TCP6ServerEndpoint(self.reactor, 80, interface="v4only").listen(
            self.factory
        )
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on v4only:80: v4only has no IPv6 address.",
        )
        d = TCP4ServerEndpoint(self.reactor, 80, interface="v6only").listen(
            self.factory
        )
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on v6only:80: v6only has no IPv4 address.",
        )
        d = HostServerEndpoint(self.reactor, 80, interface="nowhere").listen(
            self.factory
        )
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on nowhere:80: nowhere has no IPv4 or IPv6 address.",
        )
        self.assertEqual(self.reactor.tcpServers, [])

    def test_resolvedAsked(self) -> None:
        """
        The resolver is given the port, and the resolution finishes before
        anything is listened on.
        """
        d = TCP4ServerEndpoint(self.reactor, 8080, interface="slow").listen(
            self.factory
        )
        self.assertNoResult(d)
        self.assertEqual(self.reactor.tcpServers, [])
        self.reactor.advance(1.0)
        self.successResultOf(d)
        self.assertEqual(self.interfaces(), ["127.0.0.1"])

    def test_cancelDuringResolution(self) -> None:
        d = TCP4ServerEndpoint(self.reactor, 80, interface="slow").listen(self.factory)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertTrue(self.resolver.resolutions[0].cancelled)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(self.reactor.tcpServers, [])

    def test_partialFailure(self) -> None:
        """
        If one resolved address fails, the ones already open are closed
        before the Deferred fails with the error naming that address.
        """
        self.reactor.refuse[("10.0.0.2", 80)] = OSError(
            errno.EADDRNOTAVAIL, "Cannot assign requested address"
        )
        d = TCP4ServerEndpoint(self.reactor, 80, interface="multi").listen(self.factory)
        self.assertNoResult(d)
        stopping = self.reactor.ports[0].stopping
        assert stopping is not None
        stopping.callback(None)
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on 10.0.0.2:80: [Errno 99] Cannot assign requested "
            "address.",
        )

    def test_stopListeningStopsAll(self) -> None:
        ports = self.successResultOf(
            HostServerEndpoint(self.reactor, 80, interface="localhost").listen(
                self.factory
            )
        )
        d = ports.stopListening()
        assert d is not None
        for port in self.reactor.ports:
            self.assertNoResult(d)
            assert port.stopping is not None
            port.stopping.callback(None)
        self.successResultOf(d)

    def test_options(self) -> None:
        """
        ipv6Only and reusePort apply to every resolved address.
        """
        self.successResultOf(
            HostServerEndpoint(
                self.reactor, 80, interface="localhost", ipv6Only=True, reusePort=True
            ).listen(self.factory)
        )
        self.assertEqual(
            [(s.family, s.bound) for s in FakeSocket.made],
            [
                (socket.AF_INET, ("127.0.0.1", 80)),
                (socket.AF_INET6, ("::1", 80, 0, 0)),
            ],
        )
        self.assertEqual([s.option(*REUSEPORT) for s in FakeSocket.made], [1, 1])
        self.assertEqual([s.option(*V6ONLY) for s in FakeSocket.made], [None, 1])

    def test_resolvedScopeID(self) -> None:
        """
        A link-local address whose zone the resolver gives only as
        C{scopeID} is bound with that zone.
        """

        @implementer(IHostnameResolver)
        class ScopeResolver:
            def resolveHostName(
                self,
                receiver: IResolutionReceiver,
                hostName: str,
                portNumber: int = 0,
                addressTypes: object = None,
                transportSemantics: str = "TCP",
            ) -> IHostResolution:
                resolution = FakeResolution(hostName, ())
                receiver.resolutionBegan(resolution)
                receiver.addressResolved(
                    IPv6Address("TCP", "fe80::1", portNumber, 0, 3)
                )
                receiver.resolutionComplete()
                return resolution

        self.reactor.installNameResolver(ScopeResolver())
        self.successResultOf(
            TCP6ServerEndpoint(self.reactor, 80, interface="router").listen(
                self.factory
            )
        )
        self.assertEqual(FakeSocket.made[0].bound, ("fe80::1", 80, 0, 3))

    def test_noNameResolver(self) -> None:
        d = TCP6ServerEndpoint(TCPOnly(), 80, interface="localhost").listen(  # type: ignore[arg-type]
            self.factory
        )
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on localhost:80: a host name needs a reactor with a "
            "nameResolver (IReactorPluggableNameResolver), and TCPOnly has none.",
        )


class LiteralInterfaceTests(Fixture):
    """
    An address literal is listened on as given, through the reactor's own
    port object, unless an option needs a socket of our own.
    """

    def test_rawPort(self) -> None:
        port = self.successResultOf(
            TCP4ServerEndpoint(self.reactor, 80, interface="127.0.0.1").listen(
                self.factory
            )
        )
        self.assertIs(port, self.reactor.ports[0])
        self.assertEqual(self.resolver.resolutions, [])

    def test_wrongFamily(self) -> None:
        d = TCP6ServerEndpoint(self.reactor, 80, interface="127.0.0.1").listen(
            self.factory
        )
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on 127.0.0.1:80: 127.0.0.1 is an IPv4 address, but "
            "tx-tcp6 listens on IPv6 only.",
        )
        d = TCP4ServerEndpoint(self.reactor, 80, interface="::1").listen(self.factory)
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on ::1:80: ::1 is an IPv6 address, but tx-tcp4 "
            "listens on IPv4 only.",
        )
        self.assertEqual(self.reactor.tcpServers, [])

    def test_tcp6EmptyInterface(self) -> None:
        """
        Twisted's TCP6ServerEndpoint with C{interface=""} listens on IPv4;
        ours listens on C{::}, and its description says so (C{interface=}
        would not parse back).
        """
        endpoint = TCP6ServerEndpoint(self.reactor, 80, interface="")
        endpoint.listen(self.factory)
        self.assertEqual(self.interfaces(), ["::"])
        self.assertEqual(describe(endpoint), "tx-tcp6:80")
        self.assertEqual(endpoint, TCP6ServerEndpoint(self.reactor, 80))

    def test_bytesAndBrackets(self) -> None:
        self.assertEqual(
            TCP6ServerEndpoint(self.reactor, 80, interface=b"[::1]"),
            TCP6ServerEndpoint(self.reactor, 80, interface="::1"),
        )
        self.assertEqual(
            TCP4ServerEndpoint(self.reactor, 80, interface=b"localhost"),
            TCP4ServerEndpoint(self.reactor, 80, interface="localhost"),
        )

    def test_ipv6OnlyAdopts(self) -> None:
        self.successResultOf(
            TCP6ServerEndpoint(self.reactor, 80, ipv6Only=False).listen(self.factory)
        )
        [sock] = FakeSocket.made
        self.assertEqual(sock.bound, ("::", 80, 0, 0))
        self.assertEqual(sock.option(*V6ONLY), 0)
        self.assertEqual(
            self.reactor.adoptedPorts, [(42, socket.AF_INET6, self.factory)]
        )
        self.assertEqual(self.reactor.tcpServers, [])

    def test_adoptedStartsAgain(self) -> None:
        """
        A socket of our own is made and adopted again when the port is
        started after a stop: Twisted's C{Port} cannot re-create a socket it
        was given (it raises L{TypeError}).
        """
        port = self.successResultOf(
            TCP6ServerEndpoint(self.reactor, 80, interface="::1", ipv6Only=True).listen(
                self.factory
            )
        )
        self.successResultOf(port.stopListening())  # type: ignore[arg-type]
        port.startListening()
        self.assertEqual(
            [(s.bound, s.option(*V6ONLY)) for s in FakeSocket.made],
            [(("::1", 80, 0, 0), 1)] * 2,
        )
        self.assertEqual(len(self.reactor.adoptedPorts), 2)

    def test_reusePortAdopts(self) -> None:
        self.successResultOf(
            TCP4ServerEndpoint(self.reactor, 80, 9, reusePort=True).listen(self.factory)
        )
        [sock] = FakeSocket.made
        self.assertEqual((sock.bound, sock.backlog), (("0.0.0.0", 80), 9))
        self.assertEqual(sock.option(*REUSEPORT), 1)

    def test_scopedAdopts(self) -> None:
        self.successResultOf(
            TCP6ServerEndpoint(self.reactor, 80, interface="fe80::1%3").listen(
                self.factory
            )
        )
        self.assertEqual(FakeSocket.made[0].bound, ("fe80::1", 80, 0, 3))
        self.assertEqual(self.resolver.resolutions, [])

    def test_badZone(self) -> None:
        d = TCP6ServerEndpoint(self.reactor, 80, interface="fe80::1%nosuchif0").listen(
            self.factory
        )
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on fe80::1%nosuchif0:80: zone 'nosuchif0' is not a "
            "network interface on this host.",
        )

    def test_reactorWithoutIReactorSocket(self) -> None:
        d = TCP4ServerEndpoint(TCPOnly(), 80, reusePort=True).listen(self.factory)  # type: ignore[arg-type]
        self.assertEqual(
            str(self.failureResultOf(d, CannotListenError).value),
            "Couldn't listen on 0.0.0.0 (every IPv4 interface) port 80: "
            "reusePort=yes needs a reactor that can adopt sockets "
            "(IReactorSocket), and TCPOnly cannot.",
        )


class HostServerEndpointTests(Fixture):
    """
    C{tx-host} with no interface listens on every interface of both
    families.
    """

    def test_provides(self) -> None:
        self.assertTrue(
            verifyObject(IStreamServerEndpoint, HostServerEndpoint(self.reactor, 0))
        )

    def test_wildcards(self) -> None:
        """
        One socket per family: C{0.0.0.0} through C{listenTCP}, and C{::}
        with C{IPV6_V6ONLY} so the two do not collide, on the same port.
        """
        ports = self.successResultOf(
            HostServerEndpoint(self.reactor, 0).listen(self.factory)
        )
        self.assertEqual(self.reactor.tcpServers, [(0, self.factory, 50, "")])
        [sock] = FakeSocket.made
        self.assertEqual(sock.bound, ("::", 40001, 0, 0))
        self.assertEqual(sock.option(*V6ONLY), 1)
        self.assertEqual(len(ports.ports), 2)  # type: ignore[attr-defined]

    def test_wildcardsWithoutIPv6(self) -> None:
        FakeSocket.failCreate = OSError(errno.EAFNOSUPPORT, "no IPv6")
        ports = self.successResultOf(
            HostServerEndpoint(self.reactor, 80).listen(self.factory)
        )
        self.assertEqual(
            ports.getHosts(),  # type: ignore[attr-defined]
            [IPv4Address("TCP", "0.0.0.0", 80)],
        )

    def test_dualStack(self) -> None:
        """
        With C{ipv6Only=False} it listens on one dual-stack socket instead.
        """
        port = self.successResultOf(
            HostServerEndpoint(self.reactor, 80, ipv6Only=False).listen(self.factory)
        )
        self.assertEqual(self.reactor.tcpServers, [])
        [sock] = FakeSocket.made
        self.assertEqual((sock.bound, sock.option(*V6ONLY)), (("::", 80, 0, 0), 0))
        self.assertEqual(len(port.ports), 1)  # type: ignore[attr-defined]

    def test_literal(self) -> None:
        for literal in ("::1", "127.0.0.1"):
            port = self.successResultOf(
                HostServerEndpoint(self.reactor, 80, interface=literal).listen(
                    self.factory
                )
            )
            self.assertIs(port, self.reactor.ports[-1])
        self.assertEqual(self.interfaces(), ["::1", "127.0.0.1"])
        self.assertEqual(self.resolver.resolutions, [])

    def test_ipv6OnlyForIPv4Literal(self) -> None:
        """
        C{ipv6Only} with an IPv4 literal cannot mean anything: listening
        fails and says so, rather than ignoring it.
        """
        for ipv6Only, text in ((True, "yes"), (False, "no")):
            d = HostServerEndpoint(
                self.reactor, 80, interface="127.0.0.1", ipv6Only=ipv6Only
            ).listen(self.factory)
            self.assertEqual(
                str(self.failureResultOf(d, CannotListenError).value),
                f"Couldn't listen on 127.0.0.1:80: ipv6Only={text} applies to "
                "IPv6 addresses, and 127.0.0.1 is an IPv4 address.",
            )
        self.assertEqual(self.reactor.tcpServers, [])

    def test_repr(self) -> None:
        self.assertEqual(
            repr(
                HostServerEndpoint(
                    self.reactor, 80, interface="localhost", ipv6Only=True
                )
            ),
            "<HostServerEndpoint tx-host:80:interface=localhost:ipv6Only=yes>",
        )
