"""
TCP endpoints over IPv4 and IPv6.
"""

from __future__ import annotations

from typing import Any, cast

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorTCP,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import ServerFactory
from zope.interface import implementer

from ._options import TCP4_SERVER, TCP6_SERVER, Described, Spec


class _TCPServerEndpoint(Described):
    """
    Listen for TCP connections on one address of one family.
    """

    _spec: Spec

    def __init__(
        self, reactor: IReactorTCP, port: int, backlog: int = 50, interface: str = ""
    ) -> None:
        """
        @param reactor: The reactor to listen with.
        @param port: The port number; C{0} lets the kernel pick one.
        @param backlog: The size of the listen queue.
        @param interface: The address to listen on.
        """
        self._reactor = reactor
        self._port = port
        self._backlog = backlog
        self._interface = interface

    def _optionValues(self) -> dict[str, Any]:
        return {
            "port": self._port,
            "backlog": self._backlog,
            "interface": self._interface,
        }

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Listen on the configured address.

        @param protocolFactory: The factory for accepted connections.
        @return: A L{Deferred} that fires with the L{IListeningPort}, or fails
            with L{twisted.internet.error.CannotListenError}.  Nothing is
            raised synchronously.
        """
        return defer.execute(
            self._reactor.listenTCP,
            self._port,
            # listenTCP is annotated with ServerFactory; any factory works.
            cast(ServerFactory, protocolFactory),
            backlog=self._backlog,
            interface=self._interface,
        )


@implementer(IStreamServerEndpoint)
class TCP4ServerEndpoint(_TCPServerEndpoint):
    """
    A TCP server endpoint on IPv4; a drop-in for Twisted's class of the same
    name, string prefix C{tx-tcp4}.
    """

    _spec = TCP4_SERVER


@implementer(IStreamServerEndpoint)
class TCP6ServerEndpoint(_TCPServerEndpoint):
    """
    A TCP server endpoint on IPv6; a drop-in for Twisted's class of the same
    name, string prefix C{tx-tcp6}.
    """

    _spec = TCP6_SERVER

    def __init__(
        self,
        reactor: IReactorTCP,
        port: int,
        backlog: int = 50,
        interface: str = "::",
    ) -> None:
        """
        @param reactor: The reactor to listen with.
        @param port: The port number; C{0} lets the kernel pick one.
        @param backlog: The size of the listen queue.
        @param interface: The IPv6 address to listen on.
        """
        super().__init__(reactor, port, backlog, interface)
