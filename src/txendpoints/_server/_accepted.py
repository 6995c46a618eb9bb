"""
Socket options on each accepted connection.

Linux copies a listener's options to the sockets it accepts; macOS and the
BSDs do not copy C{TCP_NODELAY} and the keepalive timings.  So the factory
of a listener with such options is wrapped: each connection's socket gets
them before the user's protocol sees the connection, and the user's
protocol then takes the stand-in's place on the transport, so nothing
stands between them afterwards.

It may import L{txendpoints._sockopts}, Twisted and zope.interface.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IAddress, IProtocol, IProtocolFactory
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from .._sockopts._apply import Setting, apply

_log = Logger()


class _Configure(Protocol):
    """
    Sets the options on its connection's socket, then hands the transport
    to the user's protocol.
    """

    def __init__(self, wrapped: IProtocol, settings: list[Setting]) -> None:
        self._wrapped = wrapped
        self._settings = settings

    def makeConnection(self, transport: Any) -> None:
        if getattr(transport, "protocol", None) is not self:
            # Only a transport that dispatches through .protocol (all of
            # Twisted's TCP transports) can be handed on.
            _log.error(
                "Cannot set socket options on {transport!r}: it is not a "
                "TCP transport; closing it",
                transport=transport,
            )
            transport.abortConnection()
            return
        try:
            apply(transport.getHandle(), self._settings)
        except OSError:
            _log.failure(
                "Cannot set socket options on {peer}; closing it",
                peer=transport.getPeer(),
            )
            transport.abortConnection()
            return
        transport.protocol = self._wrapped
        logstr = getattr(transport, "logstr", None)
        standIn = type(self).__name__
        if isinstance(logstr, str) and logstr.startswith(standIn):
            # tcp.Server took its log prefix from the stand-in.
            transport.logstr = type(self._wrapped).__name__ + logstr[len(standIn) :]
        self._wrapped.makeConnection(transport)


class ConfiguringFactory(Factory):
    """
    Wraps a server's factory: each protocol it builds gets its connection
    with C{settings} set on the socket.

    @ivar wrapped: The user's factory.
    """

    def __init__(self, wrapped: IProtocolFactory, settings: list[Setting]) -> None:
        """
        @param wrapped: The user's factory.
        @param settings: The C{setsockopt} arguments for each connection.
        """
        self.wrapped = wrapped
        self._settings = settings

    def logPrefix(self) -> str:
        logPrefix = getattr(self.wrapped, "logPrefix", None)
        return str(logPrefix()) if logPrefix else type(self.wrapped).__name__

    def doStart(self) -> None:
        self.wrapped.doStart()

    def doStop(self) -> None:
        self.wrapped.doStop()

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        protocol = self.wrapped.buildProtocol(addr)  # type: ignore[arg-type]
        if protocol is None:
            return None
        return _Configure(protocol, self._settings)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.wrapped!r}>"
