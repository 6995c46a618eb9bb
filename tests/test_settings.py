"""
Tests for L{txendpoints._settings} and for how the string layer maps each
settings class to its spec (L{txendpoints._strings._describe}): no field
of any endpoint's settings can be left out of C{==}, C{hash}, C{repr} or
L{describe}.
"""

from __future__ import annotations

from typing import Any

import attrs
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from txendpoints import (
    HostClientEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    clientFromString,
    describe,
    serverFromString,
)
from txendpoints._settings import Configured, TCP4ServerSettings
from txendpoints._strings._describe import SPEC_OF_SETTINGS, settingsValues
from txendpoints._strings._specs import SPECS

try:
    from twisted.internet.tcp import makeBinding
except ImportError:  # pragma: no cover - older Twisted
    makeBinding = None  # type: ignore[assignment]

#: For each prefix and direction, a string that sets every option to
#: something other than its default.
EVERY_OPTION: dict[tuple[str, str], str] = {
    ("tx-tcp4", "server"): "tx-tcp4:8080:backlog=7:interface=127.0.0.2:reusePort=yes",
    ("tx-tcp6", "server"): (
        "tx-tcp6:8080:backlog=7:interface=\\:\\:2:ipv6Only=no:reusePort=yes"
    ),
    ("tx-host", "server"): (
        "tx-host:8080:backlog=7:interface=localhost:ipv6Only=yes:reusePort=yes"
    ),
    ("tx-stdio", "server"): "tx-stdio:stdin=3:stdout=4",
    ("tx-tcp4", "client"): (
        "tx-tcp4:example.org:443:timeout=7.5:bindAddress=192.0.2.1\\:4000"
        ":attemptDelay=0.5:reuseAddress=yes:reusePort=yes"
    ),
    ("tx-tcp6", "client"): (
        "tx-tcp6:example.org:443:timeout=7.5:bindAddress=[2001\\:db8\\:\\:1]\\:4000"
        ":attemptDelay=0.5:reuseAddress=yes:reusePort=yes"
    ),
    ("tx-host", "client"): (
        "tx-host:example.org:443:timeout=7.5:bindAddress=192.0.2.1"
        ":attemptDelay=0.5:reuseAddress=yes:reusePort=yes"
        ":resolutionDelay=0.2:preferIPv6=no"
    ),
    ("tx-stdio", "client"): "tx-stdio:stdin=3:stdout=4",
}


def build(direction: str, text: str) -> Any:
    reactor = MemoryReactorClock()
    if direction == "server":
        return serverFromString(reactor, text), reactor
    return clientFromString(reactor, text), reactor


class SpecOfSettingsTests(SynchronousTestCase):
    """
    Every settings class belongs to exactly one spec, field for option.
    """

    def test_everySpecHasSettings(self) -> None:
        self.assertEqual(
            sorted((s.prefix, s.direction) for s in SPEC_OF_SETTINGS.values()),
            sorted(SPECS),
        )

    def test_fieldsAreOptions(self) -> None:
        """
        A field with no option would be dropped by L{describe}; an option
        with no field would be dropped by the endpoint.
        """
        for settingsType, spec in SPEC_OF_SETTINGS.items():
            fields = [f.name for f in attrs.fields(settingsType)]
            self.assertEqual(
                sorted(fields), sorted(o.name for o in spec.options), settingsType
            )
            self.assertEqual(getattr(settingsType, "prefix", None), spec.prefix)

    def test_everyFieldSurvives(self) -> None:
        """
        Every field set away from its default comes back from describe ->
        parse, for every prefix in both directions.
        """
        if makeBinding is None:
            raise SkipTest("client reuse options need makeBinding")
        self.assertEqual(sorted(EVERY_OPTION), sorted(SPECS))
        for (prefix, direction), text in EVERY_OPTION.items():
            endpoint = build(direction, text)[0]
            settings = endpoint._settings
            for field in attrs.fields(type(settings)):
                self.assertNotEqual(
                    getattr(settings, field.name),
                    field.default,
                    f"{prefix} {direction}: {field.name} is at its default",
                )
            again = build(direction, describe(endpoint))[0]
            self.assertEqual(again._settings, settings, text)
            self.assertEqual(settingsValues(again._settings), settingsValues(settings))


class ConfiguredTests(SynchronousTestCase):
    """
    L{Configured} derives C{==}, C{hash} and C{repr} from the settings.
    """

    def test_bindingOptionsCompare(self) -> None:
        """
        A C{makeBinding} with C{reusePort} makes an endpoint that differs
        from one without, and says so in its string (the hand-kept option
        list this replaces forgot it).
        """
        if makeBinding is None:
            raise SkipTest("this Twisted has no makeBinding")
        reactor = MemoryReactorClock()
        plain = TCP4ClientEndpoint(
            reactor, "127.0.0.1", 80, bindAddress=makeBinding("127.0.0.1", 5000)
        )
        reusing = TCP4ClientEndpoint(
            reactor,
            "127.0.0.1",
            80,
            bindAddress=makeBinding("127.0.0.1", 5000, reusePort=True),
        )
        self.assertNotEqual(plain, reusing)
        self.assertEqual(
            describe(reusing),
            "tx-tcp4:127.0.0.1:80:bindAddress=127.0.0.1\\:5000:reusePort=yes",
        )
        self.assertEqual(clientFromString(reactor, describe(reusing)), reusing)

    def test_reuseKeywords(self) -> None:
        """
        C{reuseAddress} and C{reusePort} given as keywords reach
        C{connectTCP} as a C{makeBinding}.
        """
        if makeBinding is None:
            raise SkipTest("this Twisted has no makeBinding")
        reactor = MemoryReactorClock()
        endpoint = HostClientEndpoint(
            reactor, "127.0.0.1", 80, bindAddress="127.0.0.1", reuseAddress=True
        )
        endpoint.connect(Factory.forProtocol(Protocol))
        self.assertEqual(
            reactor.tcpClients[0][4], makeBinding("127.0.0.1", 0, reuseAddress=True)
        )

    def test_equalAndHash(self) -> None:
        reactor = MemoryReactorClock()
        a = TCP4ServerEndpoint(reactor, 80, interface="127.0.0.1")
        b = TCP4ServerEndpoint(reactor, 80, interface=b"127.0.0.1")
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        self.assertNotEqual(
            a, TCP4ServerEndpoint(MemoryReactorClock(), 80, 50, "127.0.0.1")
        )
        self.assertNotEqual(a, TCP4ServerEndpoint(reactor, 80, 51, "127.0.0.1"))

    def test_reprWithoutWriter(self) -> None:
        """
        Settings nobody taught to write themselves still give a readable
        C{repr}.
        """

        @attrs.frozen
        class Unknown:
            size: int = 3

        class Endpoint(Configured):
            def __init__(self) -> None:
                self._settings = Unknown()

        self.assertEqual(repr(Endpoint()), "<Endpoint Unknown(size=3)>")

    def test_reprReadsLikeString(self) -> None:
        endpoint = TCP4ServerEndpoint(MemoryReactorClock(), 80, 5)
        self.assertEqual(repr(endpoint), "<TCP4ServerEndpoint tx-tcp4:80:backlog=5>")
        self.assertIsInstance(endpoint._settings, TCP4ServerSettings)
