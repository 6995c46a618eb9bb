"""
TCP server endpoints over IPv4, IPv6, or every address of a host name.

It may import L{txendpoints._server._ports}, L{txendpoints._settings},
L{txendpoints._resolver}, L{txendpoints._net} and L{txendpoints._errors}.
"""

from __future__ import annotations

import dataclasses
import socket
from typing import Any, ClassVar

from twisted.internet import defer
from twisted.internet.address import IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorTCP,
    IStreamServerEndpoint,
)
from zope.interface import implementer

from .._errors import cannotListen
from .._net import FAMILY_NAMES, IPAddress, addressFamily, scopedHost
from .._resolver import resolve
from .._settings import (
    Configured,
    HostServerSettings,
    TCP4ServerSettings,
    TCP6ServerSettings,
)
from .._sockopts._options import TCPOptions, checked
from ._ports import ListeningPorts, listenAll
from ._socket import ListenAddress, SocketMaker, listenOn, needsOwnSocket
from ._startup import resolveBeforeRunning


def _interfaceText(interface: str | bytes) -> str:
    if isinstance(interface, bytes):
        interface = interface.decode("idna")
    if interface.startswith("[") and interface.endswith("]"):
        interface = interface[1:-1]
    return interface


class _TCPServerEndpoint(Configured):
    """
    Listen for TCP connections on an address, or on every address of a host
    name, of the families in C{_families}.
    """

    _Settings: ClassVar[
        type[TCP4ServerSettings | TCP6ServerSettings | HostServerSettings]
    ]
    _settings: TCP4ServerSettings | TCP6ServerSettings | HostServerSettings
    _families: ClassVar[tuple[int, ...]]
    #: Creates the sockets we configure ourselves; unit tests replace it.
    _makeSocket: SocketMaker = staticmethod(socket.socket)

    def __init__(
        self,
        reactor: IReactorTCP,
        port: int,
        backlog: int = 50,
        interface: str | bytes = "",
        *,
        ipv6Only: bool | None = None,
        reusePort: bool = False,
        options: TCPOptions | None = None,
    ) -> None:
        self._reactor = reactor
        options = checked(options, "server")
        fields: dict[str, Any] = {
            "port": port,
            "backlog": backlog,
            "interface": _interfaceText(interface),
            "reusePort": reusePort,
            "options": options,
        }
        if ipv6Only is not None:
            # Only the IPv6-capable settings have the field; TCP4's never
            # passes it.
            fields["ipv6Only"] = ipv6Only
        self._settings = self._Settings(**fields)

    # The listening code reads its settings through these.

    @property
    def _port(self) -> int:
        return self._settings.port

    @property
    def _backlog(self) -> int:
        return self._settings.backlog

    @property
    def _interface(self) -> str:
        return self._settings.interface

    @property
    def _ipv6Only(self) -> bool | None:
        return getattr(self._settings, "ipv6Only", None)

    @property
    def _reusePort(self) -> bool:
        return self._settings.reusePort

    def _error(self, reason: str) -> CannotListenError:
        return cannotListen(self._interface, self._port, reason)

    def _literal(self, family: int) -> ListenAddress:
        if family not in self._families:
            wanted = FAMILY_NAMES[self._families[0]]
            raise self._error(
                f"{self._interface} is an {FAMILY_NAMES[family]} address, but "
                f"{self._settings.prefix} listens on {wanted} only"
            )
        if family == 4 and self._ipv6Only is not None:
            # Applied to nothing, it would be ignored without a word.
            raise self._error(
                f"ipv6Only={'yes' if self._ipv6Only else 'no'} applies to IPv6 "
                f"addresses, and {self._interface} is an IPv4 address"
            )
        return ListenAddress(self._interface, family, self._ipv6Only)

    def _wildcards(self) -> list[ListenAddress]:
        """
        @return: Where to listen for an empty interface.
        """
        raise NotImplementedError()

    def _resolved(self, addresses: list[IPAddress]) -> list[ListenAddress]:
        if not addresses:
            wanted = " or ".join(FAMILY_NAMES[f] for f in self._families)
            raise self._error(f"{self._interface} has no {wanted} address")
        return [
            ListenAddress(
                scopedHost(a), 6 if isinstance(a, IPv6Address) else 4, self._ipv6Only
            )
            for a in addresses
        ]

    def _withOptions(self, address: ListenAddress) -> ListenAddress:
        return dataclasses.replace(address, options=self._settings.options)

    def _listenAll(
        self, addresses: list[ListenAddress], factory: IProtocolFactory
    ) -> Deferred[ListeningPorts]:
        return listenAll(
            self._reactor,
            [self._withOptions(a) for a in addresses],
            self._port,
            factory,
            self._backlog,
            self._reusePort,
            self._makeSocket,
        )

    def _listen(self, factory: IProtocolFactory) -> Deferred[Any]:
        if self._interface == "":
            wildcards = self._wildcards()
            if len(wildcards) > 1:
                return self._listenAll(wildcards, factory)
            address = wildcards[0]
        else:
            family = addressFamily(self._interface)
            if family is None:
                return self._listenOnName(factory)
            address = self._literal(family)
        address = self._withOptions(address)
        if needsOwnSocket(address, self._reusePort):
            # Only we can make and adopt such a socket again after a stop.
            return self._listenAll([address], factory)
        return defer.succeed(
            listenOn(
                self._reactor,
                address,
                self._port,
                factory,
                self._backlog,
                self._reusePort,
                self._makeSocket,
            )
        )

    def _listenOnName(self, factory: IProtocolFactory) -> Deferred[ListeningPorts]:
        if getattr(self._reactor, "nameResolver", None) is None:
            raise self._error(
                "a host name needs a reactor with a nameResolver "
                f"(IReactorPluggableNameResolver), and "
                f"{type(self._reactor).__name__} has none"
            )
        now = resolveBeforeRunning(
            self._reactor, self._interface, self._port, self._families
        )
        if now is not None:
            resolving = defer.succeed(now)
        else:
            resolving = resolve(
                self._reactor,  # type: ignore[arg-type]
                self._interface,
                self._port,
                self._families,
            )
        return resolving.addCallback(self._resolved).addCallback(
            self._listenAll, factory
        )

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Listen on the configured address, or on every address of the
        configured host name (resolved through C{reactor.nameResolver}, in
        this endpoint's families only).

        @param protocolFactory: The factory for accepted connections.
        @return: A L{Deferred} that fires with the reactor's L{IListeningPort}
            for an address literal that C{listenTCP} can listen on, or with
            a L{ListeningPorts} for a host name, for a socket of our own
            (C{ipv6Only}, C{reusePort}, a zone) and for C{tx-host}'s
            every-interface default; or fails
            with L{CannotListenError} naming the address and the reason.  If
            one of several addresses fails, those already open are closed
            first.  Nothing is raised synchronously; cancelling it during
            name resolution cancels the resolution.  Before the reactor runs
            (in twistd's C{privilegedStartService}) it fires or fails before
            it returns wherever the resolver allows, as a literal's does,
            and the closing of those already open follows the failure: see
            L{txendpoints._server._startup}.
        """
        return defer.maybeDeferred(self._listen, protocolFactory)


@implementer(IStreamServerEndpoint)
class TCP4ServerEndpoint(_TCPServerEndpoint):
    """
    A TCP server endpoint on IPv4; a drop-in for Twisted's class of the same
    name, string prefix C{tx-tcp4}.

    The interface may be a host name: it listens on each of its IPv4
    addresses, never on an IPv6 one.
    """

    _Settings = TCP4ServerSettings
    _families = (4,)

    def __init__(
        self,
        reactor: IReactorTCP,
        port: int,
        backlog: int = 50,
        interface: str | bytes = "",
        *,
        reusePort: bool = False,
        options: TCPOptions | None = None,
    ) -> None:
        """
        @param reactor: The reactor to listen with; it needs
            C{IReactorSocket} for C{reusePort} and
            C{IReactorPluggableNameResolver} for a host name.
        @param port: The port number; C{0} lets the kernel pick one.
        @param backlog: The size of the listen queue.
        @param interface: The IPv4 address or host name to listen on; C{""}
            means every IPv4 interface.
        @param reusePort: Whether to set C{SO_REUSEPORT}, so that several
            listeners can share the port.
        @param options: The other socket options, of the listening socket
            and of each connection it accepts; they need C{IReactorSocket}.
        @raise ValueError: If C{options} holds one this platform lacks, or
            a client's C{fastOpen}.
        """
        super().__init__(
            reactor, port, backlog, interface, reusePort=reusePort, options=options
        )

    def _wildcards(self) -> list[ListenAddress]:
        return [ListenAddress("", 4)]


@implementer(IStreamServerEndpoint)
class TCP6ServerEndpoint(_TCPServerEndpoint):
    """
    A TCP server endpoint on IPv6; a drop-in for Twisted's class of the same
    name, string prefix C{tx-tcp6}.

    The interface may be a host name (it listens on each of its IPv6
    addresses, never on an IPv4 one) or a scoped literal (C{fe80::1%eth0}).
    """

    _Settings = TCP6ServerSettings
    _families = (6,)

    def __init__(
        self,
        reactor: IReactorTCP,
        port: int,
        backlog: int = 50,
        interface: str | bytes = "::",
        *,
        ipv6Only: bool | None = None,
        reusePort: bool = False,
        options: TCPOptions | None = None,
    ) -> None:
        """
        @param reactor: The reactor to listen with; it needs
            C{IReactorSocket} for C{ipv6Only}, C{reusePort} or a zone, and
            C{IReactorPluggableNameResolver} for a host name.
        @param port: The port number; C{0} lets the kernel pick one.
        @param backlog: The size of the listen queue.
        @param interface: The IPv6 address or host name to listen on; C{""}
            means C{"::"}.
        @param ipv6Only: C{IPV6_V6ONLY}: L{True} refuses IPv4 clients,
            L{False} accepts them as C{::ffff:a.b.c.d}; L{None} leaves the
            system default.
        @param reusePort: Whether to set C{SO_REUSEPORT}.
        @param options: See L{TCP4ServerEndpoint.__init__}.
        """
        # Twisted's TCP6ServerEndpoint listens on IPv4 for "": ours means
        # "::", and says so in its repr, which must parse back.
        super().__init__(
            reactor,
            port,
            backlog,
            _interfaceText(interface) or "::",
            ipv6Only=ipv6Only,
            reusePort=reusePort,
            options=options,
        )


@implementer(IStreamServerEndpoint)
class HostServerEndpoint(_TCPServerEndpoint):
    """
    A TCP server endpoint on every IPv4 and IPv6 address of a host name,
    string prefix C{tx-host}.

    With no interface it listens on every interface of both families: on
    C{0.0.0.0} and on C{::} with C{IPV6_V6ONLY} set, so that each family
    has its own socket and IPv4 clients keep their IPv4 addresses (the IPv6
    socket is skipped on a host without IPv6).  With C{ipv6Only=False} it
    listens instead on one dual-stack socket on C{::}.
    """

    _Settings = HostServerSettings
    _families = (4, 6)

    def __init__(
        self,
        reactor: IReactorTCP,
        port: int,
        backlog: int = 50,
        interface: str | bytes = "",
        *,
        ipv6Only: bool | None = None,
        reusePort: bool = False,
        options: TCPOptions | None = None,
    ) -> None:
        """
        @param reactor: The reactor to listen with; it needs
            C{IReactorSocket} for the IPv6 wildcard, C{ipv6Only},
            C{reusePort} or a zone, and C{IReactorPluggableNameResolver} for
            a host name.
        @param port: The port number; C{0} lets the kernel pick one, the
            same for every address.
        @param backlog: The size of each listen queue.
        @param interface: The host name or address to listen on; C{""}
            means every interface of both families.
        @param ipv6Only: C{IPV6_V6ONLY} for the IPv6 addresses; L{None}
            leaves the system default (except for the C{""} wildcard, see
            the class).
        @param reusePort: Whether to set C{SO_REUSEPORT}.
        @param options: See L{TCP4ServerEndpoint.__init__}.
        """
        super().__init__(
            reactor,
            port,
            backlog,
            interface,
            ipv6Only=ipv6Only,
            reusePort=reusePort,
            options=options,
        )

    def _wildcards(self) -> list[ListenAddress]:
        if self._ipv6Only is False:
            return [ListenAddress("::", 6, False)]
        return [ListenAddress("", 4), ListenAddress("::", 6, True, optional=True)]
