"""
Closing a relay's transports the way each kind can: abort, or half-close,
with a plain close where a transport cannot.

It may import only the standard library.
"""

from __future__ import annotations

from typing import Any


def abort(transport: Any) -> None:
    """
    Close C{transport} at once, or as soon as it can if it cannot abort
    (standard I/O, for one).

    @param transport: The transport to close.
    """
    getattr(transport, "abortConnection", transport.loseConnection)()


def halfClose(transport: Any) -> None:
    """
    Close the writing half of C{transport}, or all of it if it cannot
    half-close (TLS, for one).

    @param transport: The transport to close for writing.
    """
    loseWriteConnection = getattr(transport, "loseWriteConnection", None)
    if loseWriteConnection is None:
        transport.loseConnection()
    else:
        loseWriteConnection()
