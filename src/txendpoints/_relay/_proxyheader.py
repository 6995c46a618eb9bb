"""
The PROXY protocol header a relay sends its upstream first (HAProxy's
"The PROXY protocol", versions 1 and 2), so that the upstream learns the
addresses of the connection the relay accepted.

A zone (C{fe80::1%eth0}) cannot be carried and is left out.  A connection
whose two addresses are both IPv4-mapped IPv6 (an IPv4 client of a
dual-stack socket) is sent as the IPv4 connection it is.  Anything that is
not TCP over IP (standard I/O, a UNIX socket) is sent as an unknown
connection: C{UNKNOWN} in version 1, C{PROXY} with family C{AF_UNSPEC} in
version 2, which tells the upstream to use the addresses it sees.

It may import L{txendpoints._relay._access}, Twisted and the standard
library.
"""

from __future__ import annotations

import ipaddress
import struct

from ._access import Address as IP
from ._access import sourceAddress

#: The signature that starts every version 2 header.
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"

#: Version 2, command PROXY: the connection was relayed for someone else.
_V2_PROXY = 0x21

#: Version 2 address family and transport bytes.
_V2_UNSPEC = 0x00
_V2_TCP4 = 0x11
_V2_TCP6 = 0x21


def _ends(source: object, destination: object) -> tuple[IP, int, IP, int] | None:
    sourceIP, destinationIP = sourceAddress(source), sourceAddress(destination)
    if sourceIP is None or destinationIP is None:
        return None
    if sourceIP.version != destinationIP.version:
        # One IPv4-mapped and one not: only IPv6 holds both.
        sourceIP, destinationIP = _asIPv6(sourceIP), _asIPv6(destinationIP)
    sourcePort: int = source.port  # type: ignore[attr-defined]
    destinationPort: int = destination.port  # type: ignore[attr-defined]
    return sourceIP, sourcePort, destinationIP, destinationPort


def _asIPv6(ip: IP) -> ipaddress.IPv6Address:
    if isinstance(ip, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(f"::ffff:{ip}")
    return ip


def proxyHeader(version: int, source: object, destination: object) -> bytes:
    """
    The PROXY protocol header for a relayed connection.

    @param version: 1 for the text header, 2 for the binary one.
    @param source: The accepted connection's peer address (the client).
    @param destination: The accepted connection's own address (where the
        client connected).
    @return: The header.
    """
    ends = _ends(source, destination)
    if version == 1:
        if ends is None:
            # The spec lets the sender end the line after UNKNOWN, and the
            # receiver must ignore anything up to the CRLF; Twisted's own
            # reader (twisted.protocols.haproxy) wants a space after it.
            return b"PROXY UNKNOWN \r\n"
        sourceIP, sourcePort, destinationIP, destinationPort = ends
        family = "TCP4" if sourceIP.version == 4 else "TCP6"
        ends1 = f"{sourceIP} {destinationIP} {sourcePort} {destinationPort}"
        return f"PROXY {family} {ends1}\r\n".encode("ascii")
    if ends is None:
        return V2_SIGNATURE + struct.pack("!BBH", _V2_PROXY, _V2_UNSPEC, 0)
    sourceIP, sourcePort, destinationIP, destinationPort = ends
    ports = struct.pack("!HH", sourcePort, destinationPort)
    block = sourceIP.packed + destinationIP.packed + ports
    kind = _V2_TCP4 if sourceIP.version == 4 else _V2_TCP6
    return V2_SIGNATURE + struct.pack("!BBH", _V2_PROXY, kind, len(block)) + block
