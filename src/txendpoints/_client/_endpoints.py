"""
TCP client endpoints: one family (C{tx-tcp4}, C{tx-tcp6}) or both with
Happy Eyeballs (C{tx-host}, RFC 8305).

All three resolve through C{reactor.nameResolver} and hand the addresses to
one L{StaggeredAttempts} race, which owns the deadline, the attempts and
cancellation.  It may import the rest of L{txendpoints._client},
L{txendpoints._settings}, L{txendpoints._resolver}, L{txendpoints._net} and
L{txendpoints._errors}.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from twisted.internet import defer
from twisted.internet.address import HostnameAddress
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
    HostClientSettings,
    TCP4ClientSettings,
    TCP6ClientSettings,
)
from ._arguments import BindAddress, ConnectBinding, _bindPair, _hostText, binding
from ._happy import HappyEyeballs
from ._order import AttemptOrder
from ._race import StaggeredAttempts
from ._resolve import resolveHappily


class _ClientEndpoint(Configured):
    """
    What the three TCP client endpoints share: arguments, connect, errors.
    """

    _Settings: type[TCP4ClientSettings] = TCP4ClientSettings
    _settings: TCP4ClientSettings
    #: The fields a subclass's settings add, set before C{__init__} runs.
    _moreSettings: dict[str, Any] = {}
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
    ) -> None:
        """
        @param reactor: An L{IReactorTCP<twisted.internet.interfaces.IReactorTCP>},
            L{IReactorTime<twisted.internet.interfaces.IReactorTime>} and
            L{IReactorPluggableNameResolver<twisted.internet.interfaces.IReactorPluggableNameResolver>}
            provider.
        @param host: A host name (text or IDNA bytes) or an address literal,
            which may carry an IPv6 C{%zone}.
        @param port: The port to connect to.
        @param timeout: Seconds for the whole C{connect}, name resolution
            included; L{None} for no deadline.
        @param bindAddress: The local address to connect from: a host, a
            C{(host, port)} tuple, or a C{makeBinding} result.
        @param attemptDelay: Seconds to wait for a silent attempt before
            starting the next; C{0} waits for each attempt to fail; L{None}
            (as Twisted's C{HostnameEndpoint} takes it) means the default.
        @param reuseAddress: Whether to set C{SO_REUSEADDR} before binding
            C{bindAddress}, as a C{makeBinding} result can ask.
        @param reusePort: Whether to set C{SO_REUSEPORT} before binding.
        @raise ValueError: If C{reuseAddress} or C{reusePort} is asked of a
            Twisted whose C{connectTCP} cannot set them.
        """
        self._reactor = reactor
        self._hostGiven = host
        bind, reuseAddress, reusePort = binding(bindAddress, reuseAddress, reusePort)
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
            bindAddress=_bindPair(bind),
            # None is Twisted's HostnameEndpoint's way of asking for the
            # default.
            attemptDelay=0.25 if attemptDelay is None else attemptDelay,
            reuseAddress=reuseAddress,
            reusePort=reusePort,
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

    def _bindFor(self, address: IPAddress) -> ConnectBinding:
        return self._bindAddress

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
            host = _hostText(self._hostGiven)
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
                # An address literal is one address: connectTCP's timeout is
                # the deadline, as with Twisted's endpoints, and the reactor
                # needs no IReactorTime.  A reactor without a clock gets the
                # same for a name: each attempt has connectTCP's timeout.
                deadline=addressFamily(host) is None
                and getattr(self._reactor, "callLater", None) is not None,
            )
        except BaseException:
            return defer.fail()
        try:
            self._begin(race, host)
        except Exception:
            race.fail(makeFailure())
        except BaseException:
            # An interrupt propagates (issue 17); the race has ended with it.
            race.fail(makeFailure())
            raise
        return race.deferred

    _arrange: Any = None

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

    def _begin(self, race: StaggeredAttempts, host: str) -> None:
        """
        Start resolving C{host} and feeding its addresses to C{race}.
        """
        version = addressFamily(host)
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
    """

    _Settings = TCP4ClientSettings
    _families = (4,)


@implementer(IStreamClientEndpoint)
class TCP6ClientEndpoint(_ClientEndpoint):
    """
    A TCP client over IPv6 that tries every AAAA record of the host with
    staggered attempts; a drop-in for Twisted's class of the same name,
    string prefix C{tx-tcp6}.
    """

    _Settings = TCP6ClientSettings
    _families = (6,)


@implementer(IStreamClientEndpoint)
class HostClientEndpoint(_ClientEndpoint):
    """
    A TCP client over both IPv6 and IPv4 with Happy Eyeballs v2 (RFC 8305):
    both families are resolved at once, attempts start as soon as the
    preferred family answers, and the families are interleaved.  A drop-in
    for Twisted's
    L{HostnameEndpoint<twisted.internet.endpoints.HostnameEndpoint>}, string
    prefix C{tx-host}.
    """

    _Settings = HostClientSettings
    _settings: HostClientSettings

    def __init__(
        self,
        reactor: Any,
        host: str | bytes,
        port: int,
        timeout: float | None = 30,
        bindAddress: BindAddress = None,
        attemptDelay: float | None = 0.25,
        resolutionDelay: float = 0.05,
        preferIPv6: bool = True,
        *,
        reuseAddress: bool = False,
        reusePort: bool = False,
        familyCount: int = 1,
    ) -> None:
        """
        The other parameters are those of L{TCP4ClientEndpoint.__init__}.  A
        C{bindAddress} literal restricts the attempts to its own family.

        @param resolutionDelay: Seconds to wait for the preferred family's
            answer when the other family answers first (RFC 8305 section 3).
        @param preferIPv6: Whether IPv6 goes first where RFC 6724's address
            sorting does not decide; C{False} sorts IPv4 first.
        @param familyCount: How many addresses of the first family to try
            before the first of the other (RFC 8305 section 4's First
            Address Family Count).
        @raise ValueError: If C{familyCount} is not a positive integer.
        """
        if (
            not isinstance(familyCount, int)
            or isinstance(familyCount, bool)
            or familyCount < 1
        ):
            raise ValueError(
                f"familyCount must be a positive integer, not {familyCount!r}"
            )
        self._moreSettings = {
            "resolutionDelay": resolutionDelay,
            "preferIPv6": preferIPv6,
            "familyCount": familyCount,
        }
        super().__init__(
            reactor,
            host,
            port,
            timeout,
            bindAddress,
            attemptDelay,
            reuseAddress=reuseAddress,
            reusePort=reusePort,
        )
        bind = _bindPair(self._bindAddress)
        bindFamily = addressFamily(bind[0]) if bind else None
        preferred = (6, 4) if preferIPv6 else (4, 6)
        self._families = tuple(f for f in preferred if bindFamily in (None, f))

    @property
    def _resolutionDelay(self) -> float:
        return self._settings.resolutionDelay

    @property
    def _preferIPv6(self) -> bool:
        return self._settings.preferIPv6

    def _cancelAddress(self, host: str) -> IAddress:
        try:
            hostBytes = host.encode("ascii" if host.isascii() else "idna")
        except UnicodeError:
            # As Twisted's HostnameEndpoint: a ValueError naming the host
            # with its offending characters escaped, from connect.
            escaped = host.encode("ascii", "backslashreplace").decode("ascii")
            raise ValueError(f"invalid host name: {escaped}") from None
        return HostnameAddress(hostBytes, self._port)

    def _noAddress(self, host: str) -> Exception:
        if len(self._families) == 1:
            bind = _bindPair(self._bindAddress)
            assert bind is not None
            return DNSLookupError(
                f"{host} has no {FAMILY_NAMES[self._families[0]]} address, and "
                f"bindAddress {bind[0]} allows "
                f"{FAMILY_NAMES[self._families[0]]} only"
            )
        return DNSLookupError(f"{host} has no IPv6 or IPv4 address")

    _happyPolicy: HappyEyeballs | None = None

    def _happy(self) -> HappyEyeballs:
        # Made once: it depends only on the reactor and the settings.
        if self._happyPolicy is None:
            self._happyPolicy = HappyEyeballs(
                self._reactor,
                self._families,
                self._settings.preferIPv6,
                self._settings.familyCount,
            )
        return self._happyPolicy

    @property
    def _arrange(self) -> AttemptOrder:
        # A fresh order for each connect: it remembers the sources it asked.
        return self._happy().order()

    def _begin(self, race: StaggeredAttempts, host: str) -> None:
        version = addressFamily(host)
        noAddress = partial(self._noAddress, host)
        if version is not None:
            if version not in self._families:
                race.fail(makeFailure(self._noAddress(host)))
            elif not self._happy().literal(race, host, self._port, noAddress):
                super()._begin(race, host)
            return
        self._needResolver(host)
        happy = self._happy()
        resolveHappily(
            self._reactor,
            race,
            host,
            self._port,
            self._families,
            self._resolutionDelay,
            noAddress,
            happy.outranked,
            happy.nat64,
        )
