"""
The settings of every endpoint, each one frozen value, and L{Configured},
which derives an endpoint's C{==}, C{hash} and C{repr} from them.

An endpoint keeps everything it was configured with in its settings and
nowhere else, so no option can be left out of a comparison or of
L{describe<txendpoints.describe>}.  The string layer, above, maps each
settings class to its spec and back, and teaches C{repr} to read like the
endpoint string through L{registerWriter}; endpoints never import the
grammar.

It may import only L{txendpoints._sockopts}, attrs, Twisted and the
standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from attrs import frozen

from ._sockopts._options import NO_OPTIONS, TCPOptions

#: How the string layer writes each settings class as an endpoint string.
_writers: dict[type, Callable[[Any], str]] = {}


def registerWriter(settingsType: type, write: Callable[[Any], str]) -> None:
    """
    Say how settings of C{settingsType} are written as an endpoint string,
    for the C{repr} of endpoints.

    @param settingsType: A settings class from this module.
    @param write: Turns such settings into their canonical string.
    """
    _writers[settingsType] = write


class Configured:
    """
    Mixin for endpoints whose configuration is one settings value:
    C{==} and C{hash} compare the settings (and the reactor), C{repr} shows
    the endpoint string that builds an equal endpoint.

    @ivar _settings: The endpoint's settings, a frozen value.  Endpoints
        compare equal when they have equal settings and the same
        C{_reactor}.
    """

    _settings: Any

    def __repr__(self) -> str:
        write = _writers.get(type(self._settings))
        text = write(self._settings) if write is not None else repr(self._settings)
        return f"<{type(self).__name__} {text}>"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Configured)
        return bool(
            getattr(self, "_reactor", None) is getattr(other, "_reactor", None)
            and self._settings == other._settings
        )

    def __hash__(self) -> int:
        return hash((type(self), self._settings))


@frozen
class TCP4ServerSettings:
    """
    What a L{TCP4ServerEndpoint<txendpoints.TCP4ServerEndpoint>} listens on.

    @ivar port: The port; C{0} lets the kernel pick one.
    @ivar backlog: The size of the listen queue.
    @ivar interface: An IPv4 address or host name; C{""} for every
        interface.
    @ivar reusePort: Whether to set C{SO_REUSEPORT}.
    @ivar options: The other socket options.
    """

    prefix: ClassVar[str] = "tx-tcp4"

    port: int
    backlog: int = 50
    interface: str = ""
    reusePort: bool = False
    options: TCPOptions = NO_OPTIONS


@frozen
class TCP6ServerSettings:
    """
    What a L{TCP6ServerEndpoint<txendpoints.TCP6ServerEndpoint>} listens on.

    @ivar port: The port; C{0} lets the kernel pick one.
    @ivar backlog: The size of the listen queue.
    @ivar interface: An IPv6 address (with a zone, perhaps) or host name.
    @ivar ipv6Only: C{IPV6_V6ONLY}, or L{None} for the system default.
    @ivar reusePort: Whether to set C{SO_REUSEPORT}.
    @ivar options: The other socket options.
    """

    prefix: ClassVar[str] = "tx-tcp6"

    port: int
    backlog: int = 50
    interface: str = "::"
    ipv6Only: bool | None = None
    reusePort: bool = False
    options: TCPOptions = NO_OPTIONS


@frozen
class HostServerSettings:
    """
    What a L{HostServerEndpoint<txendpoints.HostServerEndpoint>} listens on.

    @ivar port: The port; C{0} lets the kernel pick one, shared by every
        address.
    @ivar backlog: The size of each listen queue.
    @ivar interface: A host name or address; C{""} for every interface of
        both families.
    @ivar ipv6Only: C{IPV6_V6ONLY} for the IPv6 addresses, or L{None}.
    @ivar reusePort: Whether to set C{SO_REUSEPORT}.
    @ivar options: The other socket options.
    """

    prefix: ClassVar[str] = "tx-host"

    port: int
    backlog: int = 50
    interface: str = ""
    ipv6Only: bool | None = None
    reusePort: bool = False
    options: TCPOptions = NO_OPTIONS


@frozen
class TCP4ClientSettings:
    """
    Where and how a L{TCP4ClientEndpoint<txendpoints.TCP4ClientEndpoint>}
    connects.

    @ivar host: The host as text (a name or a literal, perhaps with a
        zone); for bytes that are not IDNA, their C{repr}.
    @ivar port: The port.
    @ivar timeout: Seconds for the whole connect, or L{None}.
    @ivar bindAddress: The local C{(host, port)} to connect from, or
        L{None}.
    @ivar attemptDelay: Seconds before a silent attempt is joined by the
        next.
    @ivar reuseAddress: Whether to set C{SO_REUSEADDR} before binding.
    @ivar reusePort: Whether to set C{SO_REUSEPORT} before binding.
    @ivar options: The other socket options, set on every attempt's socket.
    """

    prefix: ClassVar[str] = "tx-tcp4"

    host: str
    port: int
    timeout: float | None = 30
    bindAddress: tuple[str, int] | None = None
    attemptDelay: float = 0.25
    reuseAddress: bool = False
    reusePort: bool = False
    options: TCPOptions = NO_OPTIONS


@frozen
class TCP6ClientSettings(TCP4ClientSettings):
    """
    Where and how a L{TCP6ClientEndpoint<txendpoints.TCP6ClientEndpoint>}
    connects; the fields are those of L{TCP4ClientSettings}.
    """

    prefix: ClassVar[str] = "tx-tcp6"


@frozen
class HostClientSettings(TCP4ClientSettings):
    """
    Where and how a L{HostClientEndpoint<txendpoints.HostClientEndpoint>}
    connects: the fields of L{TCP4ClientSettings} and these.

    @ivar resolutionDelay: Seconds to wait for the preferred family's
        answer once the other family has answered.
    @ivar preferIPv6: Whether to start with IPv6 when RFC 6724's rules do
        not decide.
    @ivar familyCount: How many addresses of the first family are tried
        before the first of the other (RFC 8305's First Address Family
        Count).
    @ivar bindAddress4: The local C{(host, port)} of IPv4 attempts, or
        L{None}.
    @ivar bindAddress6: The local C{(host, port)} of IPv6 attempts, or
        L{None}.
    """

    prefix: ClassVar[str] = "tx-host"

    resolutionDelay: float = 0.05
    preferIPv6: bool = True
    familyCount: int = 1
    bindAddress4: tuple[str, int] | None = None
    bindAddress6: tuple[str, int] | None = None


@frozen
class StdioServerSettings:
    """
    The descriptors of a
    L{StandardIOServerEndpoint<txendpoints.StandardIOServerEndpoint>}.

    @ivar stdin: The descriptor to read.
    @ivar stdout: The descriptor to write.
    """

    prefix: ClassVar[str] = "tx-stdio"

    stdin: int = 0
    stdout: int = 1


@frozen
class StdioClientSettings(StdioServerSettings):
    """
    The descriptors of a
    L{StandardIOClientEndpoint<txendpoints.StandardIOClientEndpoint>}; the
    fields are those of L{StdioServerSettings}.
    """
