"""
Tests for L{txendpoints._strings._describe}: each settings class belongs to
one spec, field for option, so every field survives describe -> parse.
"""

from __future__ import annotations

from typing import Any

import attrs
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from txendpoints import TCPOptions, clientFromString, describe, serverFromString
from txendpoints._strings._describe import (
    SPEC_OF_SETTINGS,
    settingsValues,
    specOf,
    specOfClass,
)
from txendpoints._strings._specs import SPECS, TCP4_SERVER

try:
    from twisted.internet.tcp import makeBinding
except ImportError:  # pragma: no cover - older Twisted
    makeBinding = None  # type: ignore[assignment]

#: Every socket option, set away from its default, for servers and clients.
SERVER_SOCKET = (
    ":noDelay=yes:keepAlive=yes:keepIdle=60:keepInterval=5:keepCount=4"
    ":userTimeout=2.5:bindDevice=lo:receiveBuffer=64K:sendBuffer=1M"
    ":multipath=yes:fastOpen=256"
)
CLIENT_SOCKET = SERVER_SOCKET.replace("fastOpen=256", "fastOpen=yes")

#: For each prefix and direction, a string that sets every option to
#: something other than its default.
EVERY_OPTION: dict[tuple[str, str], str] = {
    ("tx-tcp4", "server"): "tx-tcp4:8080:backlog=7:interface=127.0.0.2:reusePort=yes"
    + SERVER_SOCKET,
    ("tx-tcp6", "server"): (
        "tx-tcp6:8080:backlog=7:interface=\\:\\:2:ipv6Only=no:reusePort=yes"
        + SERVER_SOCKET
    ),
    ("tx-host", "server"): (
        "tx-host:8080:backlog=7:interface=localhost:ipv6Only=yes:reusePort=yes"
        + SERVER_SOCKET
    ),
    ("tx-stdio", "server"): "tx-stdio:stdin=3:stdout=4",
    ("tx-tcp4", "client"): (
        "tx-tcp4:example.org:443:timeout=7.5:bindAddress=192.0.2.1\\:4000"
        ":attemptDelay=0.5:reuseAddress=yes:reusePort=yes" + CLIENT_SOCKET
    ),
    ("tx-tcp6", "client"): (
        "tx-tcp6:example.org:443:timeout=7.5:bindAddress=[2001\\:db8\\:\\:1]\\:4000"
        ":attemptDelay=0.5:reuseAddress=yes:reusePort=yes" + CLIENT_SOCKET
    ),
    ("tx-host", "client"): (
        "tx-host:example.org:443:timeout=7.5"
        ":attemptDelay=0.5:reuseAddress=yes:reusePort=yes"
        ":resolutionDelay=0.2:preferIPv6=no:familyCount=2"
        ":bindAddress4=192.0.2.1:bindAddress6=[2001\\:db8\\:\\:1]\\:4000"
        + CLIENT_SOCKET
    ),
    ("tx-stdio", "client"): "tx-stdio:stdin=3:stdout=4",
}


def fieldValues(settings: Any) -> dict[str, Any]:
    """
    Each field of some settings, with the fields of its socket options as
    fields of their own, and each field's default.
    """
    values = {}
    for field in attrs.fields(type(settings)):
        value = getattr(settings, field.name)
        if isinstance(value, TCPOptions):
            for inner in attrs.fields(TCPOptions):
                values[inner.name] = (getattr(value, inner.name), inner.default)
        else:
            values[field.name] = (value, field.default)
    return values


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
            if "options" in fields:
                fields.remove("options")
                fields += [f.name for f in attrs.fields(TCPOptions)]
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
            for name, (value, default) in fieldValues(settings).items():
                if (prefix, direction, name) == ("tx-host", "client", "bindAddress"):
                    # It excludes bindAddress4 and bindAddress6, set here.
                    continue
                self.assertNotEqual(
                    value, default, f"{prefix} {direction}: {name} is at its default"
                )
            again = build(direction, describe(endpoint))[0]
            self.assertEqual(again._settings, settings, text)
            self.assertEqual(settingsValues(again._settings), settingsValues(settings))


class SpecOfTests(SynchronousTestCase):
    def test_ours(self) -> None:
        endpoint = serverFromString(MemoryReactorClock(), "tx-tcp4:80")
        self.assertIs(specOf(endpoint), TCP4_SERVER)
        self.assertIs(specOfClass(type(endpoint)), TCP4_SERVER)

    def test_theirs(self) -> None:
        from twisted.internet.endpoints import TCP4ServerEndpoint

        endpoint = TCP4ServerEndpoint(MemoryReactorClock(), 80)
        self.assertIsNone(specOf(endpoint))
        self.assertIsNone(specOfClass(TCP4ServerEndpoint))
        self.assertIsNone(specOfClass(object()))  # type: ignore[arg-type]
        self.assertRaises(TypeError, describe, endpoint)
