"""
Connecting with socket options: the C{connectTCP} of a posix reactor, with
a transport whose socket is configured before it binds and connects.

Twisted's C{connectTCP} gives no hook between C{socket()} and C{connect()},
and Multipath TCP is chosen at C{socket()}; so for an attempt with socket
options we build the connector C{connectTCP} would (L{tcp.Connector}), with
a L{tcp.Client} whose C{createInternetSocket} sets them.  Cancelling,
timeouts and errors are Twisted's own.

It may import L{txendpoints._sockopts}, L{txendpoints._settings},
L{txendpoints._net}, the rest of L{txendpoints._client}'s argument
handling, Twisted and the standard library.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from attrs import frozen
from twisted.internet import tcp
from twisted.internet.address import IPv6Address
from twisted.internet.error import ConnectError
from twisted.internet.interfaces import IConnector

from .._net import IPAddress
from .._settings import TCP4ClientSettings
from .._sockopts._apply import apply, createSocket, socketSettings
from .._sockopts._options import NO_OPTIONS, TCPOptions
from ._arguments import ConnectBinding, canConfigure, isBinding


@frozen
class SocketSetup:
    """
    How an attempt's socket is set up: what the race hands each attempt as
    its C{bindAddress} when C{connectTCP} alone cannot do it.

    @ivar bindAddress: What C{connectTCP} would be given.
    @ivar options: The socket options.
    @ivar reuseAddress: Whether we set C{SO_REUSEADDR} before binding
        (where no C{makeBinding} result does it).
    @ivar reusePort: Whether we set C{SO_REUSEPORT} before binding.
    """

    bindAddress: ConnectBinding
    options: TCPOptions
    reuseAddress: bool = False
    reusePort: bool = False

    def connectTCP(self, reactor: Any) -> Callable[..., IConnector]:
        """
        The C{connectTCP} that sets this up.

        @param reactor: The endpoint's reactor.
        @return: A function with C{reactor.connectTCP}'s signature.
        @raise ConnectError: If the reactor's TCP sockets are not ours to
            configure (it is not a posix reactor).
        """
        if not canConfigure(reactor):
            names = [name for name, _ in self.options.given()]
            names += [
                name
                for name, wanted in (
                    ("reuseAddress", self.reuseAddress),
                    ("reusePort", self.reusePort),
                )
                if wanted
            ]
            raise ConnectError(  # type: ignore[no-untyped-call]
                string=f"socket options ({', '.join(names)}) need a reactor "
                "whose TCP sockets txendpoints can configure before connect "
                f"(a posix reactor), and {type(reactor).__name__} is not one"
            )

        def connectTCP(
            host: str,
            port: int,
            factory: Any,
            timeout: float | None = 30,
            bindAddress: ConnectBinding = None,
        ) -> IConnector:
            # What PosixReactorBase.connectTCP does, with our connector.
            connector = _Connector(
                host,
                port,
                factory,
                timeout,  # type: ignore[arg-type]
                bindAddress,  # type: ignore[arg-type]
                reactor,
            )
            connector.setup = self
            connector.connect()
            return connector

        return connectTCP


def setUp(
    address: IPAddress | int,
    bind: ConnectBinding,
    byFamily: dict[int, ConnectBinding],
    settings: TCP4ClientSettings,
) -> ConnectBinding | SocketSetup:
    """
    What an attempt to C{address} is given as its C{bindAddress}.

    @param address: Where the attempt connects, or just its IP version
        (C{4} or C{6}).
    @param bind: What C{connectTCP} would be given.
    @param byFamily: What C{connectTCP} would be given instead, for a
        family with a binding of its own.
    @param settings: The endpoint's settings, with its socket options and
        whether C{SO_REUSEADDR} and C{SO_REUSEPORT} were asked for.
    @return: The binding itself, for C{connectTCP}, or a L{SocketSetup} if
        there are socket options to set that C{connectTCP} cannot: any of
        C{options}, or reuse options that no C{makeBinding} result carries.
    """
    if byFamily:
        if not isinstance(address, int):
            address = 6 if isinstance(address, IPv6Address) else 4
        bind = byFamily.get(address, bind)
    options = settings.options
    reuseAddress, reusePort = settings.reuseAddress, settings.reusePort
    if options is NO_OPTIONS and not (reuseAddress or reusePort):
        # Every attempt passes here: nothing more when nothing is to be set.
        return bind
    ourReuse = not isBinding(bind) and (reuseAddress or reusePort)
    if options == NO_OPTIONS and not ourReuse:
        return bind
    return SocketSetup(
        bind,
        options,
        reuseAddress=ourReuse and reuseAddress,
        reusePort=ourReuse and reusePort,
    )


class _Client(tcp.Client):
    """
    Twisted's TCP client transport, with a socket that is configured as it
    is created, before C{tcp.Client} binds it and connects.
    """

    _setup: SocketSetup

    def __init__(
        self,
        host: str,
        port: int,
        bindAddress: ConnectBinding,
        connector: _Connector,
        reactor: Any,
    ) -> None:
        # createInternetSocket runs inside __init__.
        self._setup = connector.setup
        super().__init__(  # type: ignore[no-untyped-call]
            host, port, bindAddress, connector, reactor
        )

    def createInternetSocket(self) -> socket.socket:
        """
        A non-blocking socket with our options, as C{tcp.Client} creates
        one; an L{OSError} becomes its C{ConnectBindError}.
        """
        setup = self._setup
        sock = createSocket(self.addressFamily, setup.options)
        try:
            sock.setblocking(False)
            apply(
                sock,
                socketSettings(
                    setup.options, "client", setup.reuseAddress, setup.reusePort
                ),
            )
        except BaseException:
            sock.close()
            raise
        return sock


class _Connector(tcp.Connector):
    """
    Twisted's TCP connector, making our transport.

    @ivar setup: How to set up each transport's socket.
    """

    setup: SocketSetup

    # tcp.Connector makes its transport in this private method; overriding
    # it is the only way to give connectTCP's machinery another transport.
    def _makeTransport(self) -> _Client:
        return _Client(
            self.host,
            self.port,
            self.bindAddress,  # type: ignore[arg-type]
            self,
            self.reactor,
        )
