"""
TCP client endpoints of one family (C{tx-tcp4}, C{tx-tcp6}), and what they
share with C{tx-host} (L{txendpoints._client._host}).

A literal connects directly (L{txendpoints._client._direct}); a name
resolves through C{reactor.nameResolver} and its addresses go to one
L{StaggeredAttempts} race, which owns the deadline, the attempts and
cancellation.  It may import the rest of L{txendpoints._client} but
L{txendpoints._client._host},
L{txendpoints._settings}, L{txendpoints._resolver}, L{txendpoints._net} and
L{txendpoints._errors}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import (
    IAddress,
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
)
from zope.interface import implementer

from .._errors import makeFailure
from .._net import ADDRESS_CLASSES, FAMILY_NAMES, IPAddress, addressFamily
from .._resolver import resolve
from .._settings import (
    Configured,
    TCP4ClientSettings,
    TCP6ClientSettings,
)
from .._sockopts._options import TCPOptions, checked
from ._arguments import BindAddress, ConnectBinding, _bindPair, _hostText, binding
from ._direct import connectDirectly, startWhileConnecting
from ._race import StaggeredAttempts
from ._socket import SocketSetup, setUp


class _ClientEndpoint(Configured):
    """
    What the three TCP client endpoints share: arguments, connect, errors.
    """

    _Settings: type[TCP4ClientSettings] = TCP4ClientSettings
    _settings: TCP4ClientSettings
    #: The fields a subclass's settings add, set before C{__init__} runs.
    _moreSettings: dict[str, Any] = {}
    #: The binding of each family that has its own (tx-host's bindAddress4/6).
    _bindByFamily: dict[int, ConnectBinding] = {}
    _families: tuple[int, ...]

    def __init__(
        self,
        reactor: Any,
        host: str | bytes,
        port: int,
        timeout: float | None = 30,
        bindAddress: BindAddress = None,
        attemptDelay: float | None = 0.25,
        *,
        reuseAddress: bool = False,
        reusePort: bool = False,
        options: TCPOptions | None = None,
    ) -> None:
        """
        The parameters are described on each public class
        (L{TCP4ClientEndpoint}, L{TCP6ClientEndpoint}, L{HostClientEndpoint}).

        @raise ValueError: For reuse options without C{makeBinding} on a
            reactor that is not posix, or bad C{options} (see L{TCPOptions}).
        """
        self._reactor = reactor
        self._hostGiven = host
        options = checked(options, "client")
        bind, reuseAddress, reusePort = binding(
            bindAddress, reuseAddress, reusePort, reactor
        )
        #: What connectTCP is given: a makeBinding result stays as it was.
        self._bindAddress = bind
        try:
            hostText = _hostText(host)
        except ValueError:
            # connect() fails with the error, as Twisted's endpoints do.
            hostText = repr(host)
        self._settings = self._Settings(
            host=hostText,
            port=port,
            timeout=timeout,
            # Reuse options alone bind ("", 0), which is no bindAddress.
            bindAddress=None if bindAddress is None else _bindPair(bind),
            # None is Twisted's HostnameEndpoint's way of asking for the
            # default.
            attemptDelay=0.25 if attemptDelay is None else attemptDelay,
            reuseAddress=reuseAddress,
            reusePort=reusePort,
            options=options,
            **self._moreSettings,
        )

    # Connecting reads its settings through these.

    @property
    def _port(self) -> int:
        return self._settings.port

    @property
    def _timeout(self) -> float | None:
        return self._settings.timeout

    @property
    def _attemptDelay(self) -> float:
        return self._settings.attemptDelay

    def _cancelAddress(self, host: str) -> IAddress:
        """
        The destination
        L{ConnectingCancelledError<twisted.internet.error.ConnectingCancelledError>}
        carries, of the type Twisted's own endpoint gives.
        """
        return ADDRESS_CLASSES[self._families[0]]("TCP", host, self._port)

    def _bindFor(self, address: IPAddress) -> ConnectBinding | SocketSetup:
        return setUp(address, self._bindAddress, self._bindByFamily, self._settings)

    def _noAddress(self, host: str) -> Exception:
        wanted = " or ".join(FAMILY_NAMES[f] for f in self._families)
        return DNSLookupError(f"{host} has no {wanted} address")

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Resolve the host and connect to one of its addresses, trying them
        in turn with staggered attempts.

        @param protocolFactory: Builds the protocol of the connection that
            wins; no other connection reaches it.
        @return: A L{Deferred} that fires with the connected protocol, or
            fails: L{DNSLookupError} if the host has no usable address,
            the attempt's own error if one address was tried,
            L{txendpoints.ConnectAttemptsError} if several were,
            L{TimeoutError<twisted.internet.error.TimeoutError>} at the deadline,
            L{ConnectingCancelledError<twisted.internet.error.ConnectingCancelledError>}
            when cancelled.  Nothing is raised synchronously.
        """
        try:
            host, version = self._target()
            if version in self._families and self._directly(host):
                # One address, known at once: the shortest path (issue 19).
                return connectDirectly(
                    self._reactor,
                    host,
                    self._settings.port,
                    protocolFactory,
                    self._settings.timeout,
                    setUp(
                        version, self._bindAddress, self._bindByFamily, self._settings
                    ),
                    lambda: self._cancelAddress(host),
                )
            race = StaggeredAttempts(
                self._reactor,
                protocolFactory,
                host,
                self._port,
                self._cancelAddress(host),
                self._attemptDelay,
                self._timeout,
                self._bindFor,
                self._arrange,
                # A literal of the other family only fails.  A reactor
                # without a clock gets no deadline of ours for a name: each
                # attempt has connectTCP's timeout.
                deadline=version is None
                and getattr(self._reactor, "callLater", None) is not None,
            )
        except Exception:
            # An interrupt (KeyboardInterrupt, SystemExit) propagates.
            return defer.fail()
        try:
            startWhileConnecting(protocolFactory, race.deferred)
            self._begin(race, host, version)
        except Exception:
            race.fail(makeFailure())
        except BaseException:
            # An interrupt propagates (issue 17); the race has ended with it.
            race.fail(makeFailure())
            raise
        return race.deferred

    _arrange: Any = None

    def _directly(self, host: str) -> bool:
        """
        Whether a literal of one of our families connects on the direct
        path; C{tx-host} keeps the race for one that NAT64 may reach.
        """
        return True

    #: The host as text and its IP version (L{None} for a name), once a
    #: connect has worked them out: the host never changes.
    _targetCache: tuple[str, int | None] | None = None

    def _target(self) -> tuple[str, int | None]:
        """
        @return: The host as text, and C{4} or C{6} if it is an address
            literal, else L{None}.
        @raise ValueError: If the host is bytes that are not IDNA.
        """
        target = self._targetCache
        if target is None:
            host = _hostText(self._hostGiven)
            target = self._targetCache = (host, addressFamily(host))
        return target

    def _needResolver(self, host: str) -> None:
        """
        @raise DNSLookupError: If the reactor has no C{nameResolver}; Twisted
            would fall back to C{getaddrinfo} in a thread, which we never do.
        """
        if getattr(self._reactor, "nameResolver", None) is None:
            raise DNSLookupError(
                f"{host} is a host name, which needs a reactor with a "
                "nameResolver (IReactorPluggableNameResolver), and "
                f"{type(self._reactor).__name__} has none"
            )

    def _begin(self, race: StaggeredAttempts, host: str, version: int | None) -> None:
        """
        Start resolving C{host} and feeding its addresses to C{race}.

        @param version: C{host}'s IP version if it is an address literal,
            else L{None}, as L{_target} worked it out.
        """
        if version is not None:
            if version in self._families:
                race.finish(
                    lambda: self._noAddress(host),
                    [ADDRESS_CLASSES[version]("TCP", host, self._port)],
                )
            else:
                race.fail(
                    makeFailure(
                        DNSLookupError(
                            f"{host} is an {FAMILY_NAMES[version]} address; "
                            f"{self._settings.prefix} connects over "
                            f"{FAMILY_NAMES[self._families[0]]} only"
                        )
                    )
                )
            return
        self._needResolver(host)
        d = resolve(self._reactor, host, self._port, self._families)
        race.onEnd(d.cancel)
        d.addCallback(
            lambda addresses: race.finish(lambda: self._noAddress(host), addresses)
        )
        d.addErrback(lambda f: None if race.over else race.fail(f))


@implementer(IStreamClientEndpoint)
class TCP4ClientEndpoint(_ClientEndpoint):
    """
    A TCP client over IPv4 that tries every A record of the host with
    staggered attempts; a drop-in for Twisted's class of the same name,
    string prefix C{tx-tcp4}.

    @param reactor: Gives connections, time and names: an C{IReactorTCP},
        C{IReactorTime} and C{IReactorPluggableNameResolver}.
    @param host: A host name (text or IDNA C{bytes}) or an address literal,
        which may carry an IPv6 C{%zone}.
    @param port: The port to connect to.
    @param timeout: Seconds for the whole C{connect}, resolution included
        (default 30); L{None} for none.
    @param bindAddress: The local address to connect from: a host, a
        C{(host, port)} tuple, or a C{makeBinding} result; L{None} (the
        default) lets the kernel choose.
    @param attemptDelay: Seconds to wait for a silent attempt before
        starting the next (default 0.25, kept within 10 ms .. 2 s as RFC 8305
        section 5 asks); C{0} waits for each attempt to fail; L{None} means
        the default.
    @param reuseAddress: (keyword) Set C{SO_REUSEADDR} before binding.
    @param reusePort: (keyword) Set C{SO_REUSEPORT} before binding.
    @param options: (keyword) Socket options for every attempt, a
        L{TCPOptions<txendpoints.TCPOptions>} (a posix reactor).
    """

    _Settings = TCP4ClientSettings
    _families = (4,)


@implementer(IStreamClientEndpoint)
class TCP6ClientEndpoint(_ClientEndpoint):
    """
    A TCP client over IPv6 that tries every AAAA record of the host with
    staggered attempts; a drop-in for Twisted's class of the same name,
    string prefix C{tx-tcp6}.

    @param reactor: Gives connections, time and names: an C{IReactorTCP},
        C{IReactorTime} and C{IReactorPluggableNameResolver}.
    @param host: A host name (text or IDNA C{bytes}) or an address literal,
        which may carry an IPv6 C{%zone}.
    @param port: The port to connect to.
    @param timeout: Seconds for the whole C{connect}, resolution included
        (default 30); L{None} for none.
    @param bindAddress: The local address to connect from: a host, a
        C{(host, port)} tuple, or a C{makeBinding} result; L{None} (the
        default) lets the kernel choose.
    @param attemptDelay: Seconds to wait for a silent attempt before
        starting the next (default 0.25, kept within 10 ms .. 2 s as RFC 8305
        section 5 asks); C{0} waits for each attempt to fail; L{None} means
        the default.
    @param reuseAddress: (keyword) Set C{SO_REUSEADDR} before binding.
    @param reusePort: (keyword) Set C{SO_REUSEPORT} before binding.
    @param options: (keyword) Socket options for every attempt, a
        L{TCPOptions<txendpoints.TCPOptions>} (a posix reactor).
    """

    _Settings = TCP6ClientSettings
    _families = (6,)
