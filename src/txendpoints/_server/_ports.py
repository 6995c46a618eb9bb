"""
Listening on several addresses as one port: each is listened on in turn
(see L{txendpoints._server._socket}) and gathered into one L{ListeningPorts}.

It may import L{txendpoints._server._socket}, L{txendpoints._errors} and
L{txendpoints._net}.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

from twisted.internet.defer import (
    Deferred,
    DeferredList,
    fail,
    maybeDeferred,
    succeed,
)
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IAddress,
    IListeningPort,
    IProtocolFactory,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ._socket import (
    ListenAddress,
    SocketMaker,
    listenError,
    listenOn,
    withFamilyName,
)

_log = Logger()

#: Errors that mean this host has no IPv6 at all, for an optional address.
_NO_FAMILY = frozenset({errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL, errno.EPROTONOSUPPORT})


@implementer(IListeningPort)
class ListeningPorts:
    """
    Several listening ports that start, stop and report as one.

    @ivar ports: The ports, in the order they were opened; new ones once
        started again with a C{reopen}.
    """

    def __init__(
        self,
        ports: Sequence[IListeningPort],
        reopen: Callable[[], Sequence[IListeningPort]] | None = None,
    ) -> None:
        """
        @param ports: At least one listening port.
        @param reopen: Listens again on every address and returns the new
            ports, or raises having closed those it opened; L{None} starts
            each of C{ports} again instead.
        """
        self.ports = tuple(ports)
        self._reopen = reopen
        # A stopped Twisted port cannot say where it was; we still can.
        self._hosts = [port.getHost() for port in self.ports]
        self._listening = True
        #: Waiting for a stop under way, or L{None} when none is.
        self._waiting: list[Deferred[None]] | None = None

    def startListening(self) -> None:
        """
        Start listening again after L{stopListening}; while listening, do
        nothing.

        @raise CannotListenError: If an address cannot listen again; the
            ports started before it are stopped.
        """
        if self._listening:
            return
        if self._reopen is not None:
            self.ports = tuple(self._reopen())
        else:
            started: list[IListeningPort] = []
            for port in self.ports:
                try:
                    port.startListening()
                except BaseException:
                    _close(started)
                    raise
                started.append(port)
        self._hosts = [port.getHost() for port in self.ports]
        self._listening = True

    def stopListening(self) -> Deferred[None]:
        """
        Stop every port.

        @return: A L{Deferred<twisted.internet.defer.Deferred>} that fires
            when all have stopped, failing with
            the first failure if any of them failed to stop.  Once stopping
            or stopped, it stops nothing again: it fires with L{None} when
            the ports have stopped, leaving any failure to the first caller.
        """
        if not self._listening:
            if self._waiting is None:
                return succeed(None)
            later: Deferred[None] = Deferred()
            self._waiting.append(later)
            return later
        self._listening = False
        self._waiting = []
        stopping = [maybeDeferred(port.stopListening) for port in self.ports]

        def allStopped(results: list[tuple[bool, Any]]) -> Failure | None:
            waiting, self._waiting = self._waiting or [], None
            for later in waiting:
                later.callback(None)
            for ok, result in results:
                if not ok:
                    return cast(Failure, result)
            return None

        return DeferredList(stopping, consumeErrors=True).addCallback(allStopped)

    def getHost(self) -> IAddress:
        """
        @return: The address of the first port.
        """
        return self._hosts[0]

    def getHosts(self) -> list[IAddress]:
        """
        @return: The address of every port, in the order they were opened
            (where they were, once stopped).
        """
        return list(self._hosts)

    def __repr__(self) -> str:
        state = "" if self._listening else " (not listening)"
        return f"<ListeningPorts on {', '.join(map(str, self._hosts))}{state}>"


def _close(opened: list[IListeningPort]) -> Deferred[None]:
    """
    Stop the ports opened so far, logging (not raising) any failure to stop,
    so that the caller's own outcome is the one delivered.
    """

    def closed(result: object) -> None:
        if isinstance(result, Failure):
            _log.failure(
                "Could not close a listener after another failed",
                failure=result,
            )

    return ListeningPorts(opened).stopListening().addBoth(closed)


def _openEach(
    reactor: Any,
    addresses: Sequence[ListenAddress],
    port: int,
    factory: IProtocolFactory,
    backlog: int,
    reusePort: bool,
    makeSocket: SocketMaker,
) -> tuple[list[IListeningPort], Exception | None]:
    """
    Listen on each address in turn, stopping at the first error.

    @return: The ports opened, and the error that stopped it or L{None}.
    """
    opened: list[IListeningPort] = []
    number = port
    for address in addresses:
        try:
            listening = listenOn(
                reactor, address, number, factory, backlog, reusePort, makeSocket
            )
        except CannotListenError as e:
            if address.optional and _errno(e) in _NO_FAMILY:
                continue
            # A port of several addresses is ours, not the reactor's: its
            # error can say which wildcard failed, where Twisted's says "any".
            return opened, withFamilyName(address, e)
        except Exception as e:
            return opened, e
        opened.append(listening)
        if number == 0:
            number = cast(Any, listening.getHost()).port
    if not opened:
        return opened, listenError(
            addresses[0], port, "this host supports none of its families"
        )
    return opened, None


def _openAgain(
    reactor: Any,
    addresses: Sequence[ListenAddress],
    port: int,
    factory: IProtocolFactory,
    backlog: int,
    reusePort: bool,
    makeSocket: SocketMaker,
    tries: int,
) -> list[IListeningPort]:
    """
    Listen on every address as L{listenAll} does, but at once, for
    L{ListeningPorts.startListening}, which cannot wait: a port-0 retry
    need not wait for the ports given back, as their number is not reused.

    @raise Exception: The error of the address that failed, once the
        ports opened before it are being stopped.
    """
    while True:
        tries -= 1
        opened, error = _openEach(
            reactor, addresses, port, factory, backlog, reusePort, makeSocket
        )
        if error is None:
            return opened
        if opened:
            _close(opened)
        if not (opened and _retries(port, error, tries)):
            raise error


def _retries(port: int, error: Exception, triesLeft: int) -> bool:
    return port == 0 and _errno(error) == errno.EADDRINUSE and triesLeft > 0


def _errno(error: Exception) -> int | None:
    return cast(int | None, getattr(getattr(error, "socketError", None), "errno", None))


#: How many port numbers to try, with port 0, before giving up.
_PORT_ZERO_TRIES = 5


def listenAll(
    reactor: Any,
    addresses: Sequence[ListenAddress],
    port: int,
    factory: IProtocolFactory,
    backlog: int,
    reusePort: bool = False,
    makeSocket: SocketMaker = socket.socket,
    tries: int = _PORT_ZERO_TRIES,
) -> Deferred[ListeningPorts]:
    """
    Listen on every address, as one port.

    With port C{0}, the number the kernel gives the first address is used
    for the rest, so that all share one port number.  The kernel picked it
    for the first address only, so if it is in use on a later one, the
    ports opened are closed and the kernel asked again, up to C{tries}
    times in all.

    @param reactor: See L{listenOn}.
    @param addresses: Where to listen, in order; at least one.
    @param port: See L{listenOn}.
    @param factory: See L{listenOn}.
    @param backlog: See L{listenOn}.
    @param reusePort: See L{listenOn}.
    @param makeSocket: See L{listenOn}.
    @param tries: With port C{0}, how many port numbers to try.
    @return: A L{Deferred} firing with a L{ListeningPorts}, which, started
        again after a stop, listens again on every address in the same way
        (one number for all with port C{0}).  If one address
        fails, the ports already open are stopped first, then the Deferred
        fails with that address's error.  Cancelling it while they are
        being stopped fails it at once; the stopping goes on, and nothing
        is opened again.  Before the reactor runs, it has fired or failed
        when it is returned: the ports of a failed attempt are then stopped
        without waiting.
    """
    cancelled = False

    def cancel(result: Deferred[ListeningPorts]) -> None:
        nonlocal cancelled
        cancelled = True

    result: Deferred[ListeningPorts] = Deferred(cancel)
    reopen = partial(
        _openAgain,
        reactor,
        addresses,
        port,
        factory,
        backlog,
        reusePort,
        makeSocket,
        tries,
    )

    def attempt(triesLeft: int) -> None:
        opened, error = _openEach(
            reactor, addresses, port, factory, backlog, reusePort, makeSocket
        )
        if error is None:
            result.callback(ListeningPorts(opened, reopen))
            return
        if not opened:
            result.errback(error)
            return
        retry = _retries(port, error, triesLeft - 1)

        def closed(ignored: None) -> None:
            if cancelled:
                return
            if retry:
                attempt(triesLeft - 1)
            else:
                result.errback(error)

        _close(opened).addCallback(closed)

    if not getattr(reactor, "running", True):
        # Before the reactor runs, ports being closed cannot finish closing,
        # and twistd's privilegedStartService must see a failure before it
        # returns, or it never will; so listen, and give up, at once.
        try:
            opened = reopen()
        except Exception as e:
            return fail(e)
        return succeed(ListeningPorts(opened, reopen))
    attempt(tries)
    return result
