"""
The endpoint-string plugin objects: one per prefix and direction.

Each parser checks its arguments against the prefix's L{Spec} and builds
the endpoint; Twisted's C{serverFromString} and C{clientFromString} find them
through the dropin in C{twisted/plugins/txendpoints_endpoints.py}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import (
    IStreamClientEndpoint,
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from twisted.plugin import IPlugin
from zope.interface import implementer

from ._options import (
    HOST_CLIENT,
    HOST_SERVER,
    STDIO_CLIENT,
    STDIO_SERVER,
    TCP4_CLIENT,
    TCP4_SERVER,
    TCP6_CLIENT,
    TCP6_SERVER,
    Spec,
)
from ._stdio import buildClient as _buildStdioClient
from ._stdio import buildServer as _buildStdioServer
from ._tcp import HostServerEndpoint, TCP4ServerEndpoint, TCP6ServerEndpoint
from ._tcpclient import HostClientEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint


@implementer(IPlugin, IStreamServerEndpointStringParser)
class ServerParser:
    """
    Parse the arguments of a server endpoint string with a L{Spec}.

    @ivar prefix: See L{IStreamServerEndpointStringParser.prefix}.
    @ivar spec: The option spec.
    """

    def __init__(self, spec: Spec, build: Callable[..., IStreamServerEndpoint]):
        """
        @param spec: The option spec of a server prefix.
        @param build: Called with the reactor and the parsed values as
            keyword arguments; returns the endpoint.
        """
        self.prefix = spec.prefix
        self.spec = spec
        self._build = build

    # The reactor is positional-only so that "reactor=" in a string is an
    # unknown option for the spec to report, not a TypeError.
    def parseStreamServer(  # type: ignore[override]
        self, reactor: Any, /, *args: object, **kwargs: object
    ) -> IStreamServerEndpoint:
        """
        See L{IStreamServerEndpointStringParser.parseStreamServer}.

        @raise txendpoints.EndpointStringError: If the arguments are bad.
        """
        return self._build(reactor, **self.spec.parse(args, kwargs))

    def __repr__(self) -> str:
        return f"<ServerParser {self.prefix}>"


@implementer(IPlugin, IStreamClientEndpointStringParserWithReactor)
class ClientParser:
    """
    Parse the arguments of a client endpoint string with a L{Spec}.

    @ivar prefix: See L{IStreamClientEndpointStringParserWithReactor.prefix}.
    @ivar spec: The option spec.
    """

    def __init__(self, spec: Spec, build: Callable[..., IStreamClientEndpoint]):
        """
        @param spec: The option spec of a client prefix.
        @param build: Called with the reactor and the parsed values as
            keyword arguments; returns the endpoint.
        """
        self.prefix = spec.prefix
        self.spec = spec
        self._build = build

    def parseStreamClient(  # type: ignore[override]
        self, reactor: Any, /, *args: object, **kwargs: object
    ) -> IStreamClientEndpoint:
        """
        See L{IStreamClientEndpointStringParserWithReactor.parseStreamClient}.

        @raise txendpoints.EndpointStringError: If the arguments are bad.
        """
        return self._build(reactor, **self.spec.parse(args, kwargs))

    def __repr__(self) -> str:
        return f"<ClientParser {self.prefix}>"


tcp4Server = ServerParser(TCP4_SERVER, TCP4ServerEndpoint)
tcp6Server = ServerParser(TCP6_SERVER, TCP6ServerEndpoint)
hostServer = ServerParser(HOST_SERVER, HostServerEndpoint)
stdioServer = ServerParser(STDIO_SERVER, _buildStdioServer)
tcp4Client = ClientParser(TCP4_CLIENT, TCP4ClientEndpoint)
tcp6Client = ClientParser(TCP6_CLIENT, TCP6ClientEndpoint)
hostClient = ClientParser(HOST_CLIENT, HostClientEndpoint)
stdioClient = ClientParser(STDIO_CLIENT, _buildStdioClient)

#: Every parser of ours, for the dropin and for lookups.
serverParsers: tuple[ServerParser, ...] = (
    tcp4Server,
    tcp6Server,
    hostServer,
    stdioServer,
)
clientParsers: tuple[ClientParser, ...] = (
    tcp4Client,
    tcp6Client,
    hostClient,
    stdioClient,
)
