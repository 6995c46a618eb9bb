"""
Property tests of the endpoint-string grammar, driven by every L{Spec} in
L{txendpoints._strings._specs.SPECS}: a prefix added there is covered here
without changes, as long as its option kinds have a strategy below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import find, given
from hypothesis import strategies as st
from twisted.internet import endpoints
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from tests import hypothesis_profiles  # noqa: F401
from txendpoints import (
    EndpointStringError,
    clientFromString,
    describe,
    serverFromString,
)
from txendpoints._client._arguments import canReuseBinding
from txendpoints._net import addressFamily
from txendpoints._strings._describe import specOf
from txendpoints._strings._lookup import tokenize
from txendpoints._strings._spec import Option, Spec
from txendpoints._strings._specs import SPECS
from txendpoints._strings._values import (
    DURATION,
    BindAddress,
    Boolean,
    Device,
    Duration,
    Host,
    Integer,
    Kind,
    Seconds,
    Size,
)

#: The socket options, as the "valid options are" hint lists them.
SOCKET_NAMES = (
    "noDelay, keepAlive, keepIdle, keepInterval, keepCount, userTimeout, "
    "bindDevice, receiveBuffer, sendBuffer, multipath, fastOpen"
)


_HOST_NAME = st.from_regex(
    r"[a-z][a-z0-9-]{0,8}[a-z0-9](\.[a-z][a-z0-9]{0,5}){0,2}", fullmatch=True
)


# Any zone Python's ipaddress takes: not empty, no '%' or '/'.
_ZONE = st.text(
    st.characters(exclude_characters="%/", exclude_categories=["Cs"]),
    min_size=1,
    max_size=8,
)


def _host(kind: Host) -> st.SearchStrategy[str]:
    families = [kind.family] if kind.family else [4, 6]
    choices: list[st.SearchStrategy[str]] = [
        st.ip_addresses(v=family).map(str)  # type: ignore[arg-type]
        for family in families
    ]
    if 6 in families:
        choices.append(
            st.builds(
                "{}%{}".format,
                st.ip_addresses(v=6).map(str),
                _ZONE,
            )
        )
    if kind.names:
        choices.append(_HOST_NAME)
    if kind.empty:
        choices.append(st.just(""))
    return st.one_of(choices)


#: How to generate a valid value of each Kind; add one for a new Kind.
KIND_STRATEGIES: dict[type[Any], Callable[[Any], st.SearchStrategy[Any]]] = {
    Integer: lambda kind: st.integers(
        kind.low, kind.high if kind.high is not None else kind.low + 2**31
    ),
    Duration: lambda kind: st.floats(0, 1e9, allow_nan=False, allow_infinity=False),
    Boolean: lambda kind: st.booleans(),
    Host: _host,
    BindAddress: lambda kind: st.tuples(
        _host(Host(kind.family, kind.names, empty=True)), st.integers(0, 65535)
    ),
    Seconds: lambda kind: st.floats(
        0, kind.high, exclude_min=True, allow_nan=False, allow_infinity=False
    ),
    Size: lambda kind: st.one_of(
        st.integers(kind.low, kind.high),
        st.integers(1, 1023).map(lambda n: n * 1024),
        st.integers(1, 1023).map(lambda n: n * 1024 * 1024),
    ),
    Device: lambda kind: st.from_regex(r"[a-z][a-z0-9.-]{0,14}", fullmatch=True),
}


def valueStrategy(option: Option[Any]) -> st.SearchStrategy[Any]:
    """
    Valid values for C{option}, from its kind.
    """
    kind: Kind[Any] = option.kind
    for cls in type(kind).__mro__:
        if cls in KIND_STRATEGIES:
            return KIND_STRATEGIES[cls](kind)
    # No quiet fallback to the default: an option the round trip never
    # varies is an option it does not test.
    raise AssertionError(
        f"no strategy for {type(kind).__name__} (option {option.name}); "
        "add one to KIND_STRATEGIES in tests/test_strings_specs.py"
    )


def valuesStrategy(spec: Spec) -> st.SearchStrategy[dict[str, Any]]:
    """
    Valid option sets for C{spec}: every required option, some others.
    """
    return st.fixed_dictionaries(
        {o.name: valueStrategy(o) for o in spec.options if o.required},
        optional={o.name: valueStrategy(o) for o in spec.options if not o.required},
    )


SPEC_LIST = sorted(SPECS.values(), key=lambda s: (s.prefix, s.direction))


def parse(spec: Spec, reactor: Any, description: str) -> Any:
    """
    Parse with our function for the spec's direction.
    """
    if spec.direction == "server":
        return serverFromString(reactor, description)
    return clientFromString(reactor, description)


def twistedParse(spec: Spec, reactor: Any, description: str) -> Any:
    """
    Parse with Twisted's function for the spec's direction.
    """
    if spec.direction == "server":
        return endpoints.serverFromString(reactor, description)
    return endpoints.clientFromString(reactor, description)


@st.composite
def specAndValues(draw: st.DrawFn) -> tuple[Spec, dict[str, Any]]:
    spec = draw(st.sampled_from(SPEC_LIST))
    values = draw(valuesStrategy(spec))
    if spec.prefix == "tx-stdio":
        # A rule between two options: reading and writing on one
        # descriptor is refused (tested in test_stdio_endpoints), so keep them apart.
        stdin = values.get("stdin", 0)
        stdout = values.get("stdout", 1)
        if stdin == stdout:
            values["stdout"] = stdout + 1
    if not canReuseBinding():
        # A Twisted without makeBinding refuses these (tested in
        # test_settings); everything else still round-trips.
        values.pop("reuseAddress", None)
        values.pop("reusePort", None)
    if values.get("keepAlive") is False:
        # Keepalive timings with keepalive off are refused (tested in
        # test_sockopts_options).
        for name in ("keepIdle", "keepInterval", "keepCount"):
            values.pop(name, None)
    if values.get("bindAddress") is not None:
        # bindAddress excludes the per-family ones (tested in
        # test_client_sockopts).
        values.pop("bindAddress4", None)
        values.pop("bindAddress6", None)
    if (spec.prefix, spec.direction) == ("tx-host", "server"):
        # ipv6Only with an IPv4 literal would be ignored, so it is refused
        # (tested in test_strings_parsers).
        if addressFamily(values.get("interface", "")) == 4:
            values.pop("ipv6Only", None)
    return spec, values


def _pieces(spec: Spec) -> st.SearchStrategy[str]:
    """
    Text made of the grammar's own parts, to reach deeper than random text.
    """
    words = [o.name for o in spec.options] + [
        ":", "=", "\\", "\\:", "::1", "[", "]", "%", "0", "65535", "-1", "1.5",
        "yes", "localhost", "", " ", "\x00", "é",
    ]  # fmt: skip
    return st.lists(st.sampled_from(words), max_size=12).map("".join)


@st.composite
def specAndText(draw: st.DrawFn) -> tuple[Spec, str]:
    spec = draw(st.sampled_from(SPEC_LIST))
    return spec, draw(st.one_of(st.text(), _pieces(spec)))


class RoundTripTests(SynchronousTestCase):
    """
    parse -> describe -> parse gives an equal endpoint, for every spec.
    """

    def test_specsCovered(self) -> None:
        """
        Every spec has a parser that our lookup finds.
        """
        reactor = MemoryReactorClock()
        for spec in SPEC_LIST:
            values = {o.name: o.default for o in spec.options if not o.required}
            for option in spec.options:
                if option.required:
                    values[option.name] = find(valueStrategy(option), lambda _: True)
            endpoint = parse(spec, reactor, spec.format(values))
            self.assertEqual(specOf(endpoint), spec)

    @given(specAndValues())
    def test_roundTrip(self, case: tuple[Spec, dict[str, Any]]) -> None:
        spec, values = case
        reactor = MemoryReactorClock()
        text = spec.format(values)
        first = parse(spec, reactor, text)
        canonical = describe(first)
        second = parse(spec, reactor, canonical)
        self.assertEqual(first, second)
        self.assertEqual(describe(second), canonical)
        self.assertEqual(repr(second), f"<{type(second).__name__} {canonical}>")
        # Twisted's own function finds our plugin and agrees.
        self.assertEqual(twistedParse(spec, reactor, canonical), first)

    @given(specAndValues())
    def test_formatIsCanonical(self, case: tuple[Spec, dict[str, Any]]) -> None:
        """
        The string written from the values reads back as those values.
        """
        spec, values = case
        tokens = tokenize(spec.format(values))
        parsed = spec.parse(tokens.args[1:], tokens.kwargs)
        expected = {o.name: values.get(o.name, o.default) for o in spec.options}
        self.assertEqual(parsed, expected)


class KindRoundTripTests(SynchronousTestCase):
    """
    Each kind reads back what it writes, for every value it accepts.
    """

    @given(st.floats(0, allow_nan=False, allow_infinity=False))
    def test_duration(self, value: float) -> None:
        """
        Very small and very large durations are written without an
        exponent, which the parser would reject.
        """
        text = DURATION.format(value)
        self.assertEqual(DURATION.parse(text), value)

    def test_durationExamples(self) -> None:
        self.assertEqual(DURATION.format(1e-05), "0.00001")
        self.assertEqual(DURATION.format(1e16), "10000000000000000")
        self.assertEqual(DURATION.format(2.0), "2")


class FuzzTests(SynchronousTestCase):
    """
    Arbitrary text after one of our prefixes raises nothing but
    L{EndpointStringError}.
    """

    @given(specAndText())
    def test_onlyOurError(self, case: tuple[Spec, str]) -> None:
        spec, text = case
        try:
            parse(spec, MemoryReactorClock(), f"{spec.prefix}:{text}")
        except EndpointStringError as e:
            self.assertTrue(str(e).startswith(f"{spec.prefix}: "), str(e))

    @given(specAndText())
    def test_onlyOurErrorThroughTwisted(self, case: tuple[Spec, str]) -> None:
        """
        Our parsers, handed whatever Twisted's tokenizer makes of the text,
        raise nothing but L{EndpointStringError} either.
        """
        spec, text = case
        try:
            args, kwargs = endpoints._parse(f"{spec.prefix}:{text}")
        except (RuntimeError, UnicodeError):
            return  # Twisted's own tokenizer crashes before any plugin.
        method = (
            "parseStreamServer" if spec.direction == "server" else ("parseStreamClient")
        )
        from txendpoints._strings import _parsers

        every: list[_parsers.ServerParser | _parsers.ClientParser] = [
            *_parsers.serverParsers,
            *_parsers.clientParsers,
        ]
        parser = next(p for p in every if p.spec is spec)
        try:
            getattr(parser, method)(MemoryReactorClock(), *args[1:], **kwargs)
        except EndpointStringError:
            pass

    @given(st.text(alphabet=st.sampled_from("ab=:\\é")))
    def test_tokenizeLikeTwisted(self, text: str) -> None:
        """
        Our tokenizer agrees with Twisted's wherever Twisted's works, and
        flags the trailing backslash where it crashes.
        """
        tokens = tokenize(text)
        try:
            expected = endpoints._parse(text)
        except RuntimeError:
            self.assertIsNotNone(tokens.dangling)
            return
        except UnicodeError:
            self.assertFalse(all(name.isascii() for name in tokens.kwargs))
            return
        self.assertEqual((tokens.args, tokens.kwargs), expected)
        self.assertIsNone(tokens.dangling)


# (string, direction, exact message, option named by the error)
BAD_STRINGS: list[tuple[str, str, str, str | None]] = [
    ("tx-tcp6", "server", "tx-tcp6: port is required", "port"),
    ("tx-tcp6:", "server", "tx-tcp6: port is required", "port"),
    (
        "tx-tcp6::",
        "server",
        "tx-tcp6: port '' is not a number from 0 to 65535",
        "port",
    ),
    (
        "tx-tcp6:port=",
        "server",
        "tx-tcp6: port '' is not a number from 0 to 65535",
        "port",
    ),
    (
        "tx-tcp4:80:backlog=",
        "server",
        "tx-tcp4: backlog '' is not a number from 1 to 65535",
        "backlog",
    ),
    ("tx-tcp6:80:interface=", "server", "tx-tcp6: interface '' is empty", "interface"),
    (
        "tx-tcp6:80:backlg=5",
        "server",
        "tx-tcp6: option 'backlg' is unknown; did you mean 'backlog'?",
        "backlg",
    ),
    (
        "tx-tcp6:80:zzz=1",
        "server",
        "tx-tcp6: option 'zzz' is unknown; valid options are port, backlog, "
        f"interface, ipv6Only, reusePort, {SOCKET_NAMES}",
        "zzz",
    ),
    (
        "tx-tcp4:80:reactor=x",
        "server",
        "tx-tcp4: option 'reactor' is unknown; valid options are port, backlog, "
        f"interface, reusePort, {SOCKET_NAMES}",
        "reactor",
    ),
    (
        "tx-tcp4:80:=5",
        "server",
        "tx-tcp4: an option has an empty name (a stray '=')",
        "",
    ),
    (
        "tx-tcp6:80:backlog=5:backlog=6",
        "server",
        "tx-tcp6: option 'backlog' is given twice ('5' and '6')",
        "backlog",
    ),
    (
        "tx-tcp6:80\\",
        "server",
        "tx-tcp6: port ends with a lone backslash; write \\\\ for a backslash",
        "port",
    ),
    (
        "tx-tcp6:80:interface=\\:\\:1\\",
        "server",
        "tx-tcp6: interface ends with a lone backslash; write \\\\ for a backslash",
        "interface",
    ),
    (
        "tx-tcp4\\",
        "server",
        "tx-tcp4: the endpoint type ends with a lone backslash; write \\\\ for a "
        "backslash",
        None,
    ),
    (
        "tx-tcp4:80:81\\",
        "server",
        "tx-tcp4: argument 2 ends with a lone backslash; write \\\\ for a backslash",
        None,
    ),
    (
        "tx-tcp6:80:interface=::1",
        "server",
        "tx-tcp6: interface looks like an IPv6 address cut at its colons; write "
        "\\: for each ':' (for example interface=\\:\\:1); as written: "
        "unexpected positional argument(s) '', '1'; it takes at most 1 (port)",
        None,
    ),
    (
        "tx-tcp4:80:port=81",
        "server",
        "tx-tcp4: port is given both by position ('80') and by keyword ('81')",
        "port",
    ),
    (
        "tx-tcp4:80:interface=local host",
        "server",
        "tx-tcp4: interface 'local host' is neither a host name nor an IPv4 address",
        "interface",
    ),
    (
        "tx-tcp6:http",
        "server",
        "tx-tcp6: port 'http' is not a number from 0 to 65535",
        "port",
    ),
    (
        "tx-tcp7:80",
        "server",
        "unknown server endpoint type 'tx-tcp7'; did you mean 'tx-tcp6'?",
        None,
    ),
    ("", "client", "the endpoint string is empty", None),
]


class BadStringTests(SynchronousTestCase):
    """
    Each bad string gives exactly its message, naming the option at fault.
    """

    def test_table(self) -> None:
        for text, direction, message, option in BAD_STRINGS:
            parser = serverFromString if direction == "server" else clientFromString
            with self.assertRaises(EndpointStringError, msg=text) as e:
                parser(MemoryReactorClock(), text)
            self.assertEqual((str(e.exception), e.exception.option), (message, option))
