"""
The arguments Twisted's client endpoints take, in every form they take
them: hosts as text or IDNA bytes, C{bindAddress} as a host, a tuple or a
C{makeBinding} result.

It may import only Twisted and the standard library.
"""

from __future__ import annotations

import socket
import unicodedata
from typing import Any

from twisted.internet.posixbase import PosixReactorBase

try:
    # Twisted 26's makeBinding() result, which connectTCP takes as is.  Its
    # class is private and there is no public way to recognize one: this is
    # the only module that imports it.
    from twisted.internet.interfaces import _Binding
    from twisted.internet.tcp import makeBinding
except ImportError:  # pragma: no cover - older Twisted

    class _Binding:  # type: ignore[no-redef]
        _address: str | None
        _port: int
        _reuseAddress: bool
        _reusePort: bool

    makeBinding = None  # type: ignore[assignment]


BindAddress = (
    str
    | bytes
    | tuple[str | bytes, int]
    | tuple[str | bytes, int, int, int]
    | _Binding
    | None
)

#: What C{connectTCP} is given as its C{bindAddress}.
ConnectBinding = tuple[str, int] | _Binding | None


def _hostText(host: str | bytes) -> str:
    """
    Accept a host as text or as IDNA bytes, as Twisted's endpoints do.

    @raise ValueError: If C{host} is bytes that are not IDNA.
    """
    if isinstance(host, bytes):
        try:
            host = host.decode("idna")
        except UnicodeError:
            raise ValueError(f"invalid host name: {host!r}") from None
    host = unicodedata.normalize("NFC", host)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def _bindTuple(bindAddress: BindAddress) -> tuple[str, int] | _Binding | None:
    """
    Normalize a C{bindAddress} to Twisted's C{(host, port)} form; a
    C{makeBinding} result stays as it is, for C{connectTCP} to apply its
    socket options, as Twisted's endpoints do.  The IPv6 4-tuple
    C{(host, port, flowinfo, scopeid)} that C{connectTCP} also takes keeps
    its scope as the host's zone.

    @raise ValueError: For a tuple of any other length.
    """
    if bindAddress is None or isinstance(bindAddress, _Binding):
        return bindAddress
    if isinstance(bindAddress, (str, bytes)):
        bindAddress = (bindAddress, 0)
    if len(bindAddress) not in (2, 4):
        raise ValueError(
            f"bindAddress {bindAddress!r} is neither a host, a (host, port) "
            "tuple, a (host, port, flowinfo, scopeid) tuple nor a makeBinding result"
        )
    host, port = bindAddress[0], bindAddress[1]
    if isinstance(host, bytes):
        host = host.decode("ascii")
    if len(bindAddress) == 4 and bindAddress[3] and "%" not in host:
        host = f"{host}%{bindAddress[3]}"
    return host, int(port)


def isBinding(bindAddress: object) -> bool:
    """
    @return: Whether C{bindAddress} is a C{makeBinding} result, which
        carries its own reuse options.
    """
    return isinstance(bindAddress, _Binding)


def canConfigure(reactor: Any) -> bool:
    """
    @param reactor: An endpoint's reactor.
    @return: Whether its TCP client sockets are L{twisted.internet.tcp}'s,
        which L{txendpoints._client._socket} can configure before they
        connect: those of every posix reactor, asyncio's included.
    """
    return isinstance(reactor, PosixReactorBase)


def canReuseBinding(reactor: Any = None) -> bool:
    """
    @param reactor: The endpoint's reactor, if known.
    @return: Whether C{SO_REUSEADDR} and C{SO_REUSEPORT} can be set before
        binding: this Twisted's C{connectTCP} takes C{makeBinding}, or we
        configure the reactor's sockets ourselves.
    """
    return makeBinding is not None or canConfigure(reactor)


def _bindPair(bindAddress: tuple[str, int] | _Binding | None) -> tuple[str, int] | None:
    """
    The C{(host, port)} of a normalized C{bindAddress}.
    """
    if isinstance(bindAddress, _Binding):
        return bindAddress._address or "", bindAddress._port
    return bindAddress


def binding(
    bindAddress: BindAddress, reuseAddress: bool, reusePort: bool, reactor: Any = None
) -> tuple[ConnectBinding, bool, bool]:
    """
    What C{connectTCP} is given for a C{bindAddress} and the reuse options:
    a C{makeBinding} result stays as it was (and lends its options), reuse
    options make one; on a Twisted without C{makeBinding}, the reuse
    options stay for L{txendpoints._client._socket} to set.

    @param bindAddress: As the endpoints take it.
    @param reuseAddress: Whether C{SO_REUSEADDR} was asked for.
    @param reusePort: Whether C{SO_REUSEPORT} was asked for.
    @param reactor: The endpoint's reactor.
    @return: The C{bindAddress} for C{connectTCP} and the reuse options in
        force.
    @raise ValueError: If reuse options are asked of a Twisted whose
        C{connectTCP} cannot set them, with a reactor whose sockets we do
        not configure ourselves.
    """
    bind = _bindTuple(bindAddress)
    if isinstance(bind, _Binding):
        return bind, reuseAddress or bind._reuseAddress, reusePort or bind._reusePort
    if reuseAddress or reusePort:
        if makeBinding is None:
            if canConfigure(reactor):
                return bind, reuseAddress, reusePort
            raise ValueError(
                "reuseAddress and reusePort need a Twisted whose connectTCP "
                "takes twisted.internet.tcp.makeBinding, or a posix reactor"
            )
        made = makeBinding(*(bind or ("", 0)), reuseAddress, reusePort)
        return made, reuseAddress, reusePort
    return bind, False, False


def bindingsByFamily(
    bindAddress: BindAddress,
    bindAddress4: BindAddress,
    bindAddress6: BindAddress,
    reuseAddress: bool,
    reusePort: bool,
    reactor: Any,
) -> tuple[dict[int, ConnectBinding], dict[str, tuple[str, int] | None]]:
    """
    The C{bindAddress} for C{connectTCP} of each family that has its own,
    for C{tx-host}'s C{bindAddress4} and C{bindAddress6}.

    @param bindAddress: The one for every family, which excludes these.
    @param bindAddress4: The one for IPv4 attempts, as the endpoints take it.
    @param bindAddress6: The one for IPv6 attempts.
    @param reuseAddress: Whether C{SO_REUSEADDR} was asked for.
    @param reusePort: Whether C{SO_REUSEPORT} was asked for.
    @param reactor: The endpoint's reactor.
    @return: The binding by family, and the C{(host, port)} of each by
        option name.
    @raise ValueError: If C{bindAddress} is given too, or one is an address
        of the other family.
    """
    byFamily: dict[int, ConnectBinding] = {}
    pairs: dict[str, tuple[str, int] | None] = {}
    for family, name, given in (
        (4, "bindAddress4", bindAddress4),
        (6, "bindAddress6", bindAddress6),
    ):
        pairs[name] = None
        if given is None:
            continue
        if bindAddress is not None:
            raise ValueError(
                f"bindAddress and {name} are both given; give either "
                "bindAddress (which restricts the attempts to its "
                "family) or bindAddress4 and bindAddress6"
            )
        bind = binding(given, reuseAddress, reusePort, reactor)[0]
        pair = _bindPair(bind)
        assert pair is not None
        host = pair[0].partition("%")[0]
        version = 6 if ":" in host else 4 if host else family
        if version != family or (host and not _isLiteral(host, family)):
            raise ValueError(f"{name} {pair[0]!r} is not an IPv{family} address")
        byFamily[family] = bind
        pairs[name] = pair
    return byFamily, pairs


def _isLiteral(host: str, family: int) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if family == 6 else socket.AF_INET, host)
    except (OSError, ValueError):
        return False
    return True
