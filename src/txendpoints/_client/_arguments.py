"""
The arguments Twisted's client endpoints take, in every form they take
them: hosts as text or IDNA bytes, C{bindAddress} as a host, a tuple or a
C{makeBinding} result.

It may import only Twisted and the standard library.
"""

from __future__ import annotations

import unicodedata

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


def canReuseBinding() -> bool:
    """
    @return: Whether this Twisted's C{connectTCP} can set C{SO_REUSEADDR}
        and C{SO_REUSEPORT} before binding (it takes C{makeBinding}).
    """
    return makeBinding is not None


def _bindPair(bindAddress: tuple[str, int] | _Binding | None) -> tuple[str, int] | None:
    """
    The C{(host, port)} of a normalized C{bindAddress}.
    """
    if isinstance(bindAddress, _Binding):
        return bindAddress._address or "", bindAddress._port
    return bindAddress


def binding(
    bindAddress: BindAddress, reuseAddress: bool, reusePort: bool
) -> tuple[ConnectBinding, bool, bool]:
    """
    What C{connectTCP} is given for a C{bindAddress} and the reuse options:
    a C{makeBinding} result stays as it was (and lends its options), reuse
    options make one.

    @param bindAddress: As the endpoints take it.
    @param reuseAddress: Whether C{SO_REUSEADDR} was asked for.
    @param reusePort: Whether C{SO_REUSEPORT} was asked for.
    @return: The C{bindAddress} for C{connectTCP} and the reuse options in
        force.
    @raise ValueError: If reuse options are asked of a Twisted whose
        C{connectTCP} cannot set them.
    """
    bind = _bindTuple(bindAddress)
    if isinstance(bind, _Binding):
        return bind, reuseAddress or bind._reuseAddress, reusePort or bind._reusePort
    if reuseAddress or reusePort:
        if makeBinding is None:
            raise ValueError(
                "reuseAddress and reusePort need a Twisted whose connectTCP "
                "takes twisted.internet.tcp.makeBinding"
            )
        made = makeBinding(*(bind or ("", 0)), reuseAddress, reusePort)
        return made, reuseAddress, reusePort
    return bind, False, False
