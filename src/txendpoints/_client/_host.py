"""
The TCP client endpoint over both families with Happy Eyeballs v2
(C{tx-host}, RFC 8305): both families resolved at once
(L{txendpoints._client._resolve}), the attempts interleaved.

It may import the rest of L{txendpoints._client}, L{txendpoints._settings},
L{txendpoints._net} and L{txendpoints._errors}.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from twisted.internet.address import HostnameAddress
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IAddress, IStreamClientEndpoint
from zope.interface import implementer

from .._errors import makeFailure
from .._net import FAMILY_NAMES, addressFamily
from .._settings import HostClientSettings
from .._sockopts._options import TCPOptions
from ._arguments import BindAddress, _bindPair, bindingsByFamily
from ._endpoints import _ClientEndpoint
from ._happy import HappyEyeballs
from ._order import AttemptOrder
from ._race import StaggeredAttempts
from ._resolve import resolveHappily


@implementer(IStreamClientEndpoint)
class HostClientEndpoint(_ClientEndpoint):
    """
    A TCP client over both IPv6 and IPv4 with Happy Eyeballs v2 (RFC 8305):
    both families are resolved at once, attempts start as soon as the
    preferred family answers, and the families are interleaved.  A drop-in
    for Twisted's
    L{HostnameEndpoint<twisted.internet.endpoints.HostnameEndpoint>}, string
    prefix C{tx-host}.

    @param reactor: Gives connections, time and names: an C{IReactorTCP},
        C{IReactorTime} and C{IReactorPluggableNameResolver}.
    @param host: A host name (text or IDNA C{bytes}) or an address literal,
        which may carry an IPv6 C{%zone}.
    @param port: The port to connect to.
    @param timeout: Seconds for the whole C{connect}, resolution included
        (default 30); L{None} for none.
    @param bindAddress: The local address to connect from: a host, a
        C{(host, port)} tuple, or a C{makeBinding} result; L{None} (the
        default) lets the kernel choose.  A literal restricts the attempts
        to its own family.
    @param attemptDelay: Seconds to wait for a silent attempt before
        starting the next (default 0.25, kept within 10 ms .. 2 s as RFC 8305
        section 5 asks); C{0} waits for each attempt to fail; L{None} means
        the default.
    @param reuseAddress: (keyword) Set C{SO_REUSEADDR} before binding.
    @param reusePort: (keyword) Set C{SO_REUSEPORT} before binding.
    @param resolutionDelay: Seconds to wait for the preferred family's
        answer when the other family answers first (default 0.05, RFC 8305
        section 3).
    @param preferIPv6: Whether IPv6 goes first (the default) where RFC
        6724's address sorting does not decide; L{False} sorts IPv4 first.
    @param familyCount: (keyword) How many addresses of the first family to
        try before the first of the other (default 1; RFC 8305 section 4's
        First Address Family Count).
    @param options: (keyword) Socket options for every attempt, a
        L{TCPOptions<txendpoints.TCPOptions>} (a posix reactor).
    @param bindAddress4: (keyword) The local IPv4 address of IPv4 attempts
        (as C{bindAddress} takes it); it does not restrict the family.
    @param bindAddress6: (keyword) The local IPv6 address of IPv6 attempts.
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
        options: TCPOptions | None = None,
        bindAddress4: BindAddress = None,
        bindAddress6: BindAddress = None,
    ) -> None:
        """
        The parameters are described with the class.

        @raise ValueError: If C{familyCount} is not a positive integer; if
            C{bindAddress} is given with C{bindAddress4} or C{bindAddress6},
            or one of them is of the other family; as L{TCP4ClientEndpoint}
            for the rest.
        """
        if (
            not isinstance(familyCount, int)
            or isinstance(familyCount, bool)
            or familyCount < 1
        ):
            raise ValueError(
                f"familyCount must be a positive integer, not {familyCount!r}"
            )
        byFamily, pairs = bindingsByFamily(
            bindAddress, bindAddress4, bindAddress6, reuseAddress, reusePort, reactor
        )
        self._moreSettings = {
            "resolutionDelay": resolutionDelay,
            "preferIPv6": preferIPv6,
            "familyCount": familyCount,
            **pairs,
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
            options=options,
        )
        self._bindByFamily = byFamily
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

    def _directly(self, host: str) -> bool:
        return not self._happy().mayNeedNAT64(host)

    def _begin(self, race: StaggeredAttempts, host: str, version: int | None) -> None:
        noAddress = partial(self._noAddress, host)
        if version is not None:
            if version not in self._families:
                race.fail(makeFailure(self._noAddress(host)))
            elif not self._happy().literal(race, host, self._port, noAddress):
                super()._begin(race, host, version)
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
