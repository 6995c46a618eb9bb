"""
Better TCP4, TCP6, host and standard-I/O endpoints for Twisted.

The endpoint classes are drop-ins for Twisted's; the same endpoints are
available as endpoint strings (C{tx-tcp4:}, C{tx-tcp6:}, C{tx-host:},
C{tx-stdio:}) to every program that uses C{serverFromString} or C{clientFromString}.
"""

from ._client._endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint
from ._client._host import HostClientEndpoint
from ._errors import ConnectAttemptsError, EndpointStringError
from ._server._endpoints import (
    HostServerEndpoint,
    TCP4ServerEndpoint,
    TCP6ServerEndpoint,
)
from ._server._ports import ListeningPorts
from ._sockopts._options import TCPOptions
from ._stdio._endpoints import StandardIOClientEndpoint, StandardIOServerEndpoint
from ._strings._clients import clientStrings
from ._strings._describe import describe
from ._strings._lookup import (
    PrefixCollisionWarning,
    clientFromString,
    rebuildPrefixTable,
    serverFromString,
)

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
    "TCPOptions",
    "clientFromString",
    "clientStrings",
    "describe",
    "rebuildPrefixTable",
    "serverFromString",
]
