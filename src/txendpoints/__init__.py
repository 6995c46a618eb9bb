"""
Better TCP4, TCP6, host and standard-I/O endpoints for Twisted.

The endpoint classes are drop-ins for Twisted's; the same endpoints are
available as endpoint strings (C{tx-tcp4:}, C{tx-tcp6:}) to every program
that uses C{serverFromString} or C{clientFromString}.
"""

from ._lookup import (
    PrefixCollisionWarning,
    clientFromString,
    rebuildPrefixTable,
    serverFromString,
)
from ._options import EndpointStringError, describe
from ._tcp import TCP4ServerEndpoint, TCP6ServerEndpoint

__all__ = [
    "EndpointStringError",
    "PrefixCollisionWarning",
    "TCP4ServerEndpoint",
    "TCP6ServerEndpoint",
    "clientFromString",
    "describe",
    "rebuildPrefixTable",
    "serverFromString",
]
