"""
A listening port described as client strings: what to tell a client after
listening on port 0 (Twisted #7603).

It may import L{txendpoints._strings._quoting}, L{txendpoints._net}, Twisted
and the standard library.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress, IListeningPort

from .._net import scopedHost
from ._quoting import escape

#: What a client on this host connects to for a port bound to every
#: address of a family: the family's loopback address, which a wildcard
#: listener always answers on.
_LOOPBACK: dict[type, str] = {IPv4Address: "127.0.0.1", IPv6Address: "::1"}

#: The client prefix of each IP address class.
_PREFIX: dict[type, str] = {IPv4Address: "tx-tcp4", IPv6Address: "tx-tcp6"}


def addressClientString(address: IAddress) -> str:
    """
    The client string that connects to one listening address.

    @param address: Where a port listens: an L{IPv4Address} or
        L{IPv6Address} of type C{TCP}, or a L{UNIXAddress} with a path.
    @return: C{tx-tcp4:HOST:PORT}, C{tx-tcp6:HOST:PORT} (host escaped,
        with its zone), or C{unix:PATH}.  A wildcard host (C{0.0.0.0},
        C{::}) becomes the loopback address of its family.
    @raise ValueError: For an address no client string reaches: standard
        I/O, UDP, an abstract or unnamed UNIX socket, any other type.
    """
    if isinstance(address, IPv4Address | IPv6Address) and address.type == "TCP":
        host = scopedHost(address)
        literal = host.partition("%")[0]
        try:
            unspecified = ipaddress.ip_address(literal).is_unspecified
        except ValueError:
            unspecified = False
        if unspecified:
            host = _LOOPBACK[type(address)]
        prefix = _PREFIX[type(address)]
        return f"{prefix}:{escape(host, positional=True)}:{address.port}"
    if isinstance(address, UNIXAddress):
        name: Any = address.name
        if isinstance(name, bytes):
            name = name.decode("utf-8", "surrogateescape")
        path = name
        if path and not path.startswith("\0"):
            return f"unix:{escape(path, positional=True)}"
    raise ValueError(f"no client string reaches {address!r}")


def clientStrings(port: IListeningPort) -> list[str]:
    """
    Client strings that connect to a listening port, one per address it is
    bound to, for a log line or a client's configuration.

    For example, a port from listening on C{tx-host:0:interface=localhost}
    gives C{["tx-tcp4:127.0.0.1:43121", "tx-tcp6:\\:\\:1:43121"]}.

    @param port: A port from C{listen}: a L{ListeningPorts
        <txendpoints.ListeningPorts>} (each of its addresses), or any
        port whose C{getHost} is a TCP or UNIX address, such as Twisted's
        own C{tcp:}, C{tcp6:} and C{unix:} ports.
    @return: One string per address, in the port's order, without
        repeats.  A wildcard address is given as its family's loopback
        address: a client elsewhere needs this host's name instead.
    @raise ValueError: If an address cannot be reached by a client string
        (a standard-I/O port, say).
    """
    getHosts = getattr(port, "getHosts", None)
    hosts: list[IAddress] = list(getHosts()) if getHosts else [port.getHost()]
    found: list[str] = []
    for address in hosts:
        text = addressClientString(address)
        if text not in found:
            found.append(text)
    return found
