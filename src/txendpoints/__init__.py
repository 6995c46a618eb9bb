"""
Better TCP4, TCP6, host and standard-I/O endpoints for Twisted.

The endpoint classes are drop-ins for Twisted's; the same endpoints are
available as endpoint strings (C{tx-tcp4:}, C{tx-tcp6:}, C{tx-host:},
C{tx-stdio:}) to every program that uses C{serverFromString} or C{clientFromString}.
"""

from ._attempts import ConnectAttemptsError
from ._grammar import EndpointStringError, describe
from ._listen import ListeningPorts
from ._lookup import (
    PrefixCollisionWarning,
    clientFromString,
    rebuildPrefixTable,
    serverFromString,
)
from ._stdio import StandardIOClientEndpoint, StandardIOServerEndpoint
from ._tcp import HostServerEndpoint, TCP4ServerEndpoint, TCP6ServerEndpoint
from ._tcpclient import HostClientEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint

__all__ = [
    "ConnectAttemptsError",
    "EndpointStringError",
    "HostClientEndpoint",
    "HostServerEndpoint",
    "ListeningPorts",
    "PrefixCollisionWarning",
    "StandardIOClientEndpoint",
    "StandardIOServerEndpoint",
    "TCP4ClientEndpoint",
    "TCP4ServerEndpoint",
    "TCP6ClientEndpoint",
    "TCP6ServerEndpoint",
    "clientFromString",
    "describe",
    "rebuildPrefixTable",
    "serverFromString",
]
