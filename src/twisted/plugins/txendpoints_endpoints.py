"""
Twisted plugin dropin for txendpoints: registers its endpoint-string parsers.

No logic lives here; see L{txendpoints._strings._parsers}.  Twisted's plugin system
finds the parsers among this module's attributes.
"""

from txendpoints._strings._parsers import (
    hostClient,
    hostServer,
    stdioClient,
    stdioServer,
    tcp4Client,
    tcp4Server,
    tcp6Client,
    tcp6Server,
)

__all__ = [
    "hostClient",
    "hostServer",
    "stdioClient",
    "stdioServer",
    "tcp4Client",
    "tcp4Server",
    "tcp6Client",
    "tcp6Server",
]
