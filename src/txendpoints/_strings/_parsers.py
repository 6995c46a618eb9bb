"""
The endpoint-string plugin objects: one per prefix and direction.

Each parser checks its arguments against the prefix's L{Spec} and builds
the endpoint; Twisted's C{serverFromString} and C{clientFromString} find them
through the dropin in C{twisted/plugins/txendpoints_endpoints.py}.

It may import the rest of the string layer and the endpoint layers below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import evolve
from twisted.internet.interfaces import (
    IReactorSocket,
    IStreamClientEndpoint,
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from twisted.plugin import IPlugin
from zope.interface import implementer

from .._client._arguments import canConfigure, canReuseBinding
from .._client._endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint
from .._client._host import HostClientEndpoint
from .._errors import EndpointStringError
from .._net import addressFamily
from .._server._endpoints import (
    HostServerEndpoint,
    TCP4ServerEndpoint,
    TCP6ServerEndpoint,
)
from .._settings import Configured
from .._sockopts._options import NO_OPTIONS, OptionError, TCPOptions, checkFor
from .._stdio._endpoints import StandardIOClientEndpoint, StandardIOServerEndpoint
from ._spec import Spec
from ._specs import (
    HOST_CLIENT,
    HOST_SERVER,
    SOCKET_OPTION_NAMES,
    STDIO_CLIENT,
    STDIO_SERVER,
    TCP4_CLIENT,
    TCP4_SERVER,
    TCP6_CLIENT,
    TCP6_SERVER,
)


def _checked(spec: Spec, endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """
    Build a standard-I/O endpoint, refusing one descriptor for both halves.
    """

    def build(reactor: Any, stdin: int, stdout: int) -> Any:
        if stdin == stdout:
            raise EndpointStringError(
                spec.prefix,
                f"stdin and stdout are both {stdin}; they must be different "
                "file descriptors",
                option="stdout",
                value=str(stdout),
            )
        return endpoint(reactor, stdin, stdout)

    return build


def _withOptions(spec: Spec, build: Callable[..., Any]) -> Callable[..., Any]:
    """
    Gather the socket options of a TCP string into one
    L{TCPOptions<txendpoints.TCPOptions>}, refused as the endpoint classes
    refuse it, and build the endpoint with it.
    """

    def withOptions(reactor: Any, **values: Any) -> Any:
        given = {
            name: values.pop(name)
            for name in SOCKET_OPTION_NAMES
            if values.get(name) is not None
        }
        values = {k: v for k, v in values.items() if k not in SOCKET_OPTION_NAMES}
        try:
            # NO_OPTIONS itself, for the endpoints' fast path.
            options = TCPOptions(**given) if given else NO_OPTIONS
            checkFor(options, spec.direction)
        except OptionError as e:
            raise spec.error(str(e), e.option, e.value) from None
        return build(reactor, options=options, **values)

    return withOptions


def _tcpClient(spec: Spec, endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """
    Build a TCP client, refusing socket options this Twisted cannot set.
    """

    def build(reactor: Any, **values: Any) -> Any:
        if not canReuseBinding(reactor):
            for name in ("reuseAddress", "reusePort"):
                if values[name]:
                    raise spec.error(
                        f"{name} needs a Twisted whose connectTCP takes "
                        "twisted.internet.tcp.makeBinding or a reactor whose "
                        f"sockets we create (a posix reactor), and "
                        f"{type(reactor).__name__} with this Twisted is neither",
                        option=name,
                        value="yes",
                    )
        if spec is HOST_CLIENT and values["bindAddress"] is not None:
            for name in ("bindAddress4", "bindAddress6"):
                if values[name] is not None:
                    raise spec.error(
                        f"bindAddress and {name} are both given; give either "
                        "bindAddress (which restricts the attempts to its "
                        "family) or bindAddress4 and bindAddress6",
                        option=name,
                        value=spec.option(name).kind.format(values[name]),
                    )
        return endpoint(reactor, **values)

    return _withOptions(spec, build)


def _hostServerUnchecked(reactor: Any, **values: Any) -> HostServerEndpoint:
    # The endpoint fails such a listen; a string can be refused when parsed.
    ipv6Only, interface = values["ipv6Only"], values["interface"]
    if ipv6Only is not None and addressFamily(interface) == 4:
        raise EndpointStringError(
            HOST_SERVER.prefix,
            "option 'ipv6Only' applies to IPv6 addresses, and interface "
            f"{interface} is an IPv4 address",
            option="ipv6Only",
            value="yes" if ipv6Only else "no",
        )
    return HostServerEndpoint(reactor, **values)


_hostServer = _withOptions(HOST_SERVER, _hostServerUnchecked)


class _SpecParser:
    """
    Parse the arguments of an endpoint string with a L{Spec} and build the
    endpoint from the typed values.

    @ivar prefix: The prefix Twisted matches strings against.
    @ivar spec: The option spec.
    """

    def __init__(self, spec: Spec, build: Callable[..., Any]) -> None:
        """
        @param spec: The option spec of the prefix, in this direction.
        @param build: Called with the reactor and the parsed values as
            keyword arguments; returns the endpoint.
        """
        self.prefix = spec.prefix
        self.spec = spec
        self._build = build

    def _parse(
        self, reactor: Any, args: tuple[object, ...], kwargs: dict[str, object]
    ) -> Any:
        return self._build(reactor, **self.spec.parse(args, kwargs))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.prefix}>"


# In both parsers the reactor is positional-only, so that "reactor=" in a
# string is an unknown option for the spec to report, not a TypeError.


@implementer(IPlugin, IStreamServerEndpointStringParser)
class ServerParser(_SpecParser):
    """
    The plugin for a server prefix.
    """

    def parseStreamServer(  # type: ignore[override]
        self, reactor: Any, /, *args: object, **kwargs: object
    ) -> IStreamServerEndpoint:
        """
        See L{IStreamServerEndpointStringParser.parseStreamServer}.

        @raise txendpoints.EndpointStringError: If the arguments are bad.
        """
        endpoint: IStreamServerEndpoint = self._parse(reactor, args, kwargs)
        return endpoint


@implementer(IPlugin, IStreamClientEndpointStringParserWithReactor)
class ClientParser(_SpecParser):
    """
    The plugin for a client prefix.
    """

    def parseStreamClient(  # type: ignore[override]
        self, reactor: Any, /, *args: object, **kwargs: object
    ) -> IStreamClientEndpoint:
        """
        See L{IStreamClientEndpointStringParserWithReactor.parseStreamClient}.

        @raise txendpoints.EndpointStringError: If the arguments are bad.
        """
        endpoint: IStreamClientEndpoint = self._parse(reactor, args, kwargs)
        return endpoint


tcp4Server = ServerParser(TCP4_SERVER, _withOptions(TCP4_SERVER, TCP4ServerEndpoint))
tcp6Server = ServerParser(TCP6_SERVER, _withOptions(TCP6_SERVER, TCP6ServerEndpoint))
hostServer = ServerParser(HOST_SERVER, _hostServer)
stdioServer = ServerParser(
    STDIO_SERVER, _checked(STDIO_SERVER, StandardIOServerEndpoint)
)
tcp4Client = ClientParser(TCP4_CLIENT, _tcpClient(TCP4_CLIENT, TCP4ClientEndpoint))
tcp6Client = ClientParser(TCP6_CLIENT, _tcpClient(TCP6_CLIENT, TCP6ClientEndpoint))
hostClient = ClientParser(HOST_CLIENT, _tcpClient(HOST_CLIENT, HostClientEndpoint))
stdioClient = ClientParser(
    STDIO_CLIENT, _checked(STDIO_CLIENT, StandardIOClientEndpoint)
)


def noDelayByDefault(endpoint: Any, reactor: Any) -> Any:
    """
    Turn on C{noDelay} in one of our TCP endpoints unless its string or
    its options said C{noDelay} either way, where the reactor lets us set
    it: what C{txendpoints relay} does, as a relay must not add Nagle
    delay to what it forwards.

    @param endpoint: A freshly parsed endpoint, ours or not.
    @param reactor: Its reactor.
    @return: C{endpoint}, changed if it is one of our TCP endpoints.
    """
    if not isinstance(endpoint, Configured):
        return endpoint
    settings = endpoint._settings
    options = getattr(settings, "options", None)
    if not isinstance(options, TCPOptions) or options.noDelay is not None:
        return endpoint
    server = isinstance(
        endpoint, TCP4ServerEndpoint | TCP6ServerEndpoint | HostServerEndpoint
    )
    if not (IReactorSocket.providedBy(reactor) if server else canConfigure(reactor)):
        return endpoint
    endpoint._settings = evolve(settings, options=evolve(options, noDelay=True))
    return endpoint


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
