"""
What the system's resolver answers without asking DNS: the hosts(5) file,
and the localhost names (RFC 6761 section 6.3), which are the loopback
addresses the host has.

It may import only L{txendpoints._net} and the standard library.
"""

from __future__ import annotations

import os
import socket
import sys

from ._net import addressFamily

__all__ = ["HOSTS_PATH", "HostsFile", "LocalNames", "hasLoopback", "isLocalhost"]

#: The hosts(5) file the system's resolver reads first.
HOSTS_PATH = (
    os.path.join(
        os.environ.get("SystemRoot", r"C:\Windows"),
        "System32",
        "drivers",
        "etc",
        "hosts",
    )
    if sys.platform == "win32"
    else "/etc/hosts"
)

#: RFC 6761 section 6.3: localhost names are the loopback addresses.
_LOOPBACK: dict[int, str] = {4: "127.0.0.1", 6: "::1"}


def hasLoopback(literal: str) -> bool:
    """
    Whether the host has the loopback address C{literal}: a host with IPv6
    disabled has no C{::1}, and a listener on it would fail.

    @param literal: C{"127.0.0.1"} or C{"::1"}.
    """
    family = socket.AF_INET6 if ":" in literal else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            # Binding sends nothing, and fails if the host lacks the address.
            probe.bind((literal, 0))
    except OSError:
        return False
    return True


def isLocalhost(name: str) -> bool:
    """
    @param name: A host name.
    @return: Whether it is C{localhost} or under C{.localhost} (RFC 6761
        section 6.3), whose addresses are the loopback ones.
    """
    name = name.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


class HostsFile:
    """
    The names of a hosts(5) file, read again when the file changes.

    Twisted's L{twisted.names.hosts.searchFileForAll} reads and parses the
    whole file for every name; this parses it once per change, since every
    connect to a name asks.
    """

    def __init__(self, path: str) -> None:
        """
        @param path: The file; one that cannot be read knows no names.
        """
        self._path = path
        self._stamp: tuple[int, int, int] | None = None
        self._names: dict[str, list[str]] = {}

    def lookup(self, name: str) -> list[str] | None:
        """
        @param name: A host name.
        @return: The address literals the file gives C{name}, in file order,
            or L{None} if the file does not list it.
        """
        try:
            st = os.stat(self._path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            self._stamp, self._names = None, {}
            return None
        if stamp != self._stamp:
            self._names = self._parse()
            self._stamp = stamp
        return self._names.get(name.lower().rstrip("."))

    def _parse(self) -> dict[str, list[str]]:
        names: dict[str, list[str]] = {}
        try:
            with open(self._path, "rb") as f:
                content = f.read()
        except OSError:
            return names
        for raw in content.splitlines():
            fields = raw.split(b"#", 1)[0].decode("ascii", "replace").split()
            if len(fields) < 2 or addressFamily(fields[0]) is None:
                continue
            for alias in fields[1:]:
                addresses = names.setdefault(alias.lower(), [])
                if fields[0] not in addresses:
                    addresses.append(fields[0])
        return names


class LocalNames:
    """
    The names the system answers itself: C{localhost} and C{*.localhost}
    first (whatever the hosts file says, RFC 6761 section 6.3), then the
    hosts file.
    """

    def __init__(self, hostsPath: str) -> None:
        """
        @param hostsPath: The hosts(5) file.
        """
        self._hosts = HostsFile(hostsPath)
        self._loopbacks: list[str] | None = None

    def lookup(self, name: str) -> list[str] | None:
        """
        @param name: A host name.
        @return: Its address literals, or L{None} if DNS must be asked.
        """
        if not isLocalhost(name):
            return self._hosts.lookup(name)
        if self._loopbacks is None:
            # Asked once: whether the host has IPv6 does not change under a
            # running process often enough to ask per lookup.
            both = [_LOOPBACK[6], _LOOPBACK[4]]
            self._loopbacks = [a for a in both if hasLoopback(a)] or both
        return self._loopbacks
