"""
Tests for L{txendpoints._strings._lookup}: the cached prefix table and our
C{serverFromString} / C{clientFromString}.
"""

from __future__ import annotations

import gc
import math
import time
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

from hypothesis import example, given, settings
from hypothesis import strategies as st
from twisted.internet import endpoints
from twisted.internet.interfaces import IStreamServerEndpointStringParser
from twisted.internet.testing import MemoryReactor
from twisted.plugin import IPlugin
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

import txendpoints
from tests import hypothesis_profiles  # noqa: F401
from txendpoints import (
    EndpointStringError,
    PrefixCollisionWarning,
    TCP4ServerEndpoint,
    TCP6ServerEndpoint,
    clientFromString,
    rebuildPrefixTable,
    serverFromString,
)
from txendpoints._strings import _lookup
from txendpoints._strings._lookup import tokenize
from txendpoints._strings._spec import Direction
from txendpoints._tools import _catalog


def sameEndpoint(test: SynchronousTestCase, ours: object, theirs: object) -> None:
    """
    Twisted's endpoints have no equality: compare their type and state.
    """
    test.assertIs(type(ours), type(theirs))
    test.assertEqual(vars(ours), vars(theirs))


# Strings both Twisted and we accept; the endpoints must be the same.
SERVER_STRINGS = [
    "tcp:80",
    "tcp:8080:interface=127.0.0.1:backlog=7",
    "tcp:port=80:interface=127.0.0.1",
    "unix:/tmp/sock:mode=600:lockfile=0",
    "unix:address=/tmp/a\\:b",
    "tcp6:8080",
    "tcp6:8080:interface=\\:\\:1:backlog=3",
    "TCP6:8080",
    "stdio:",
    "tx-tcp4:0",
    "tx-tcp6:8080:interface=\\:\\:1",
    "TX-TCP6:port=1:backlog=9",
    "port=80:tcp",
]

CLIENT_STRINGS = [
    "tcp:example.org:80",
    "tcp:host=example.org:port=80:timeout=5",
    "TCP:example.org:80:bindAddress=127.0.0.1",
    "tcp:host=example.org:80",
    "unix:/tmp/sock:timeout=9:lockfile=1",
    "unix:path=/tmp/sock",
]


class TokenizeTests(SynchronousTestCase):
    """
    L{tokenize} splits strings exactly like Twisted's C{_parse}.
    """

    def test_sameAsTwisted(self) -> None:
        for text in [
            "tcp:80",
            "a:b=c=d:e",
            "a\\:b=c\\=d:\\\\",
            "x:=:==:",
            "k\\=1=v:",
            "",
            ":::",
        ]:
            tokens = tokenize(text)
            self.assertEqual((tokens.args, tokens.kwargs), endpoints._parse(text))
            self.assertIsNone(tokens.dangling)

    def test_keywordsInOrder(self) -> None:
        tokens = tokenize("p:a=1:b=2:a=3")
        self.assertEqual(tokens.keywords, [("a", "1"), ("b", "2"), ("a", "3")])
        self.assertEqual(tokens.kwargs, {"a": "3", "b": "2"})

    def test_dangling(self) -> None:
        self.assertEqual(tokenize("p:a=1\\").dangling, "a")
        self.assertEqual(tokenize("p:x:y\\").dangling, 2)
        self.assertEqual(tokenize("p\\").dangling, 0)
        self.assertEqual(tokenize("p\\").args, ["p"])
        self.assertIsNone(tokenize("p:a=1\\\\").dangling)


class SameEndpointTests(SynchronousTestCase):
    """
    For every string Twisted accepts, ours give the same endpoint.
    """

    def test_servers(self) -> None:
        reactor = MemoryReactor()
        for text in SERVER_STRINGS:
            sameEndpoint(
                self,
                serverFromString(reactor, text),
                endpoints.serverFromString(reactor, text),
            )

    def test_clients(self) -> None:
        reactor = MemoryReactor()
        for text in CLIENT_STRINGS:
            sameEndpoint(
                self,
                clientFromString(reactor, text),
                endpoints.clientFromString(reactor, text),
            )

    def test_bytesPlugin(self) -> None:
        """
        Plugins get bytes pieces from a bytes string, as Twisted gives them.
        """
        reactor = MemoryReactor()
        for text in [b"tcp6:80:interface=\\:\\:1", b"tx-tcp6:80:backlog=4"]:
            sameEndpoint(
                self,
                serverFromString(reactor, text),
                endpoints.serverFromString(reactor, text),
            )

    def test_bytesBuiltin(self) -> None:
        """
        Twisted rejects built-in types in bytes strings; we accept them.
        """
        reactor = MemoryReactor()
        sameEndpoint(
            self,
            serverFromString(reactor, b"tcp:80"),
            endpoints.serverFromString(reactor, "tcp:80"),
        )

    def test_ours(self) -> None:
        reactor = MemoryReactor()
        self.assertEqual(
            serverFromString(reactor, "tx-tcp6:80:interface=\\:\\:1"),
            TCP6ServerEndpoint(reactor, 80, 50, "::1"),
        )
        self.assertEqual(
            serverFromString(reactor, "Tx-Tcp4:80"), TCP4ServerEndpoint(reactor, 80)
        )

    def test_builtinCaseInsensitive(self) -> None:
        """
        Twisted's server built-ins match only in lower case; ours in any.
        """
        reactor = MemoryReactor()
        sameEndpoint(
            self,
            serverFromString(reactor, "TCP:80"),
            endpoints.serverFromString(reactor, "tcp:80"),
        )

    def test_builtinErrorsAreTwisteds(self) -> None:
        """
        A bad built-in string fails the way Twisted's own parser fails it.
        """
        with self.assertRaises(ValueError) as e:
            serverFromString(MemoryReactor(), "tcp:http")
        self.assertNotIsInstance(e.exception, EndpointStringError)

    def test_fallbackWithoutPrivateTables(self) -> None:
        """
        If Twisted's private tables move, the built-ins go through its
        public functions.
        """
        saved = endpoints._endpointServerFactories
        del endpoints._endpointServerFactories
        self.addCleanup(setattr, endpoints, "_endpointServerFactories", saved)
        self.patch(endpoints, "_clientParsers", {})
        calls: list[str] = []

        def recorder(result: str) -> Any:
            def record(reactor: Any, text: str) -> str:
                calls.append(text)
                return result

            return record

        self.patch(endpoints, "serverFromString", recorder("server"))
        self.patch(endpoints, "clientFromString", recorder("client"))
        reactor = MemoryReactor()
        self.assertEqual(serverFromString(reactor, "tcp:80"), "server")
        self.assertEqual(clientFromString(reactor, "tcp:a:80"), "client")
        self.assertEqual(calls, ["tcp:80", "tcp:a:80"])


class ErrorTests(SynchronousTestCase):
    """
    Strings no parser could take fail with L{EndpointStringError}.
    """

    def assertMessage(self, text: str, message: str, client: bool = False) -> None:
        parse = clientFromString if client else serverFromString
        with self.assertRaises(EndpointStringError) as e:
            parse(MemoryReactor(), text)
        self.assertEqual(str(e.exception), message)

    def test_unknownType(self) -> None:
        self.assertMessage(
            "tcp7:80", "unknown server endpoint type 'tcp7'; did you mean 'tcp'?"
        )
        self.assertMessage(
            "zzz:80", "unknown client endpoint type 'zzz'; see 'txendpoints list'", True
        )

    def test_unknownTypeIsValueError(self) -> None:
        with self.assertRaises(ValueError):
            serverFromString(MemoryReactor(), "nope:1")

    def test_empty(self) -> None:
        self.assertMessage("", "the endpoint string is empty")

    def test_noType(self) -> None:
        self.assertMessage(
            "port=80", "'port=80' does not start with an endpoint type such as 'tcp:'"
        )

    def test_danglingBuiltin(self) -> None:
        """
        Twisted raises C{RuntimeError} for a trailing backslash; we do not.
        """
        self.assertMessage(
            "tcp:80:interface=x\\",
            "tcp: interface ends with a lone backslash; write \\\\ for a backslash",
        )
        self.assertMessage(
            "tcp:80\\",
            "tcp: argument 1 ends with a lone backslash; write \\\\ for a backslash",
        )

    def test_duplicateOnlyOurs(self) -> None:
        """
        Repeated keywords are errors for our prefixes; for Twisted's the
        last one wins, as with Twisted's own function.
        """
        reactor = MemoryReactor()
        sameEndpoint(
            self,
            serverFromString(reactor, "tcp:80:backlog=1:backlog=2"),
            endpoints.serverFromString(reactor, "tcp:80:backlog=2"),
        )
        with self.assertRaises(EndpointStringError) as e:
            serverFromString(reactor, "tx-tcp4:80:backlog=1:backlog=2")
        self.assertEqual(e.exception.option, "backlog")

    def test_longInputShortMessage(self) -> None:
        """
        Messages about the string as a whole quote an excerpt of it.
        """
        long = "x" * 100_000
        for description, client in [
            (long, False),
            (f"{long}:80", True),
            (f"={long}", False),
            (f"tx-tcp4:80:backlog={long}:backlog={long}", False),
            (f"tx-tcp4:80:{long}=\\", False),
        ]:
            parse = clientFromString if client else serverFromString
            with self.assertRaises(EndpointStringError) as e:
                parse(MemoryReactor(), description)
            self.assertIn("(100", str(e.exception))
            self.assertLessEqual(len(str(e.exception)), 400, str(e.exception))

    def test_whereTwistedsTokenizerFails(self) -> None:
        """
        Strings that Twisted's own functions reject with other errors before
        any plugin runs (with Twisted 26.10: C{RuntimeError} from
        C{StopIteration}, C{UnicodeEncodeError}, C{UnicodeDecodeError},
        C{IndexError}) are L{EndpointStringError} from ours, as README and
        the string reference promise.
        """
        descriptions: list[str | bytes] = [
            "tx-tcp4:80\\",
            "tx-tcp4:80:interface=x\\",
            "tx-stdio:\\",
            "tx-tcp4:80:é=1",
            "tx-host:80:bäcklog=1",
            b"tx-tcp6:80:\xff=1",
            "=",
            "backlog=5",
            "\\",
        ]
        for description in descriptions:
            for parse in [serverFromString, clientFromString]:
                with self.assertRaises(EndpointStringError, msg=repr(description)):
                    parse(MemoryReactor(), description)


@implementer(IPlugin, IStreamServerEndpointStringParser)
class FakeParser:
    """
    A server parser that records what it was given.
    """

    def __init__(self, prefix: str, name: str) -> None:
        self.prefix = prefix
        self.name = name
        self.calls: list[tuple[Any, ...]] = []

    def parseStreamServer(self, reactor: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.name

    def __repr__(self) -> str:
        return f"<FakeParser {self.name}>"


class TableTests(SynchronousTestCase):
    """
    The prefix table is built once, on demand, and rebuilt on request.
    """

    def setUp(self) -> None:
        rebuildPrefixTable()
        self.addCleanup(rebuildPrefixTable)
        self.plugins: list[Any] = []
        self.scans = 0

        def getPlugins(interface: Any) -> list[Any]:
            self.scans += 1
            if interface is IStreamServerEndpointStringParser:
                return list(self.plugins)
            return []

        self.patch(_lookup, "getPlugins", getPlugins)

    def test_builtOnce(self) -> None:
        self.plugins = [FakeParser("fake", "one")]
        reactor = MemoryReactor()
        self.assertEqual(serverFromString(reactor, "fake:1:a=b"), "one")
        self.assertEqual(serverFromString(reactor, "FAKE:2"), "one")
        self.assertEqual(self.scans, 1)
        self.assertEqual(self.plugins[0].calls, [(("1",), {"a": "b"}), (("2",), {})])

    def test_rebuild(self) -> None:
        reactor = MemoryReactor()
        with self.assertRaises(EndpointStringError):
            serverFromString(reactor, "fake:1")
        self.plugins = [FakeParser("fake", "late")]
        with self.assertRaises(EndpointStringError):
            serverFromString(reactor, "fake:1")
        txendpoints.rebuildPrefixTable()
        self.assertEqual(serverFromString(reactor, "fake:1"), "late")

    def test_builtinsWin(self) -> None:
        """
        As in Twisted, a plugin cannot take over a built-in type.
        """
        self.plugins = [FakeParser("tcp", "impostor")]
        endpoint = serverFromString(MemoryReactor(), "tcp:80")
        self.assertIsInstance(endpoint, endpoints.TCP4ServerEndpoint)

    def test_collisionWarns(self) -> None:
        first, second = FakeParser("dup", "first"), FakeParser("DUP", "second")
        self.plugins = [first, second]
        names = {id(first): "alpha-endpoints 1.0", id(second): "beta-endpoints 2.1"}
        self.patch(_lookup, "distributionOf", lambda plugin: names[id(plugin)])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.assertEqual(serverFromString(MemoryReactor(), "dup:1"), "first")
            self.assertEqual(serverFromString(MemoryReactor(), "dup:2"), "first")
        self.assertEqual([w.category for w in caught], [PrefixCollisionWarning])
        self.assertEqual(
            str(caught[0].message),
            "the server endpoint prefix 'dup' is claimed by <FakeParser first> "
            "from alpha-endpoints 1.0 and by <FakeParser second> from "
            "beta-endpoints 2.1; using the one from alpha-endpoints 1.0",
        )
        self.assertEqual(caught[0].filename, __file__)

    def test_collisionListed(self) -> None:
        first, second = FakeParser("dup", "first"), FakeParser("dup", "second")
        self.plugins = [first, second, FakeParser("tcp", "impostor")]
        names = {
            id(first): "alpha-endpoints 1.0",
            id(second): "beta-endpoints 2.1",
            id(self.plugins[2]): "gamma 3",
        }
        self.patch(_catalog, "distributionOf", lambda plugin: names[id(plugin)])
        found = {
            (t.prefix, t.distribution): t
            for t in _catalog.installedEndpointTypes("server")
        }
        alpha = found[("dup", "alpha-endpoints 1.0")]
        beta = found[("dup", "beta-endpoints 2.1")]
        self.assertEqual(
            (alpha.collision, alpha.active), (("beta-endpoints 2.1",), True)
        )
        self.assertEqual(
            (beta.collision, beta.active), (("alpha-endpoints 1.0",), False)
        )
        impostor = found[("tcp", "gamma 3")]
        self.assertEqual(
            (impostor.collision, impostor.active), (("Twisted (built-in)",), False)
        )
        self.assertTrue(found[("tcp", f"Twisted {_twistedVersion()}")].active)


def _twistedVersion() -> str:
    from importlib.metadata import version

    return version("Twisted")


# Pieces of pathological strings: each is repeated thousands of times
# between a head and a tail.
_UNITS = [
    ":",
    "1:",
    "9",
    "0",
    "é",
    "\x00",
    "\udcff",
    "\U0010ffff",
    "\\:",
    "\\\\",
    "a=",
    ":=:",
    "[",
    "::1:",
    "1.",
    "a.",
    "-",
    "ü.",
]
_HEADS = [
    "",
    "80:",
    "port=",
    "backlog=",
    "interface=",
    "80:interface=",
    "host=",
    "example.org:",
    "bindAddress=",
    "example.org:80:timeout=",
    "80:backlog=",
    "attemptDelay=1",
    "stdin=",
]
_TAILS = ["", ":", "\\", ":80", "=1", ":backlog=1:backlog=2", ":\x00=1"]
# The long string has this many times the units of the short one.
_SCALE = 40
# Far longer than any message, far shorter than the strings below.
_LONGEST_MESSAGE = 2_500


class Pathological(NamedTuple):
    """
    A pathological string after one of our prefixes: a head, a unit
    repeated any number of times, and a tail.
    """

    direction: Direction
    prefix: str
    head: str
    unit: str
    tail: str
    asBytes: bool

    def build(self, count: int) -> str | bytes:
        text = f"{self.prefix}:{self.head}{self.unit * count}{self.tail}"
        return text.encode("utf-8", "surrogatepass") if self.asBytes else text


@st.composite
def pathological(draw: st.DrawFn) -> Pathological:
    prefix = draw(st.sampled_from(["tx-tcp4", "tx-tcp6", "tx-host", "tx-stdio"]))
    return Pathological(
        draw(st.sampled_from(["server", "client"])),
        prefix.upper() if draw(st.booleans()) else prefix,
        draw(st.sampled_from(_HEADS)),
        draw(st.sampled_from(_UNITS)),
        draw(st.sampled_from(_TAILS)),
        draw(st.booleans()),
    )


def _secondsPerCharacter(
    parse: Callable[[], object], length: int, repeat: int
) -> float:
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(repeat):
            try:
                parse()
            except EndpointStringError:
                pass
        best = min(best, time.perf_counter() - start)
    return best / (length * repeat)


class PathologicalStringTests(SynchronousTestCase):
    """
    Our C{serverFromString} and C{clientFromString} turn any string with one
    of our prefixes (tens of thousands of pieces, huge numbers, NULs,
    non-ASCII, huge values) into an endpoint or an L{EndpointStringError}
    with a short message, in time linear in its length.
    """

    # Each a string that was once slow to reject: the IPv6-hint search,
    # a backtracking duration pattern, a message quoting every piece.
    @example(Pathological("server", "tx-tcp6", "", ":", "", False), 30_000)
    @example(
        Pathological("client", "tx-host", "example.org:80:timeout=", "9", "=1", False),
        30_000,
    )
    @example(Pathological("server", "tx-tcp4", "80:", "1:", "", True), 30_000)
    @settings(max_examples=max(10, settings().max_examples // 5))
    @given(pathological(), st.integers(min_value=1_000, max_value=30_000))
    def test_linearAndOurs(self, case: Pathological, count: int) -> None:
        function = serverFromString if case.direction == "server" else clientFromString
        reactor = MemoryReactor()
        long, short = case.build(count), case.build(count // _SCALE)
        try:
            function(reactor, long)
        except EndpointStringError as e:
            self.assertLessEqual(len(str(e)), _LONGEST_MESSAGE)
        # A collection of the whole suite's objects would land on one of
        # the two measurements, not in proportion to both.
        gc.disable()
        try:
            longCost = _secondsPerCharacter(
                lambda: function(reactor, long), len(long), 1
            )
            shortCost = _secondsPerCharacter(
                lambda: function(reactor, short),
                len(short),
                max(1, len(long) // len(short)),
            )
        finally:
            gc.enable()
        # Linear cost gives about 1 (less, as fixed costs weigh more on
        # the short string); quadratic would give about _SCALE.
        self.assertLess(longCost / shortCost, _SCALE / 5, repr(long[:80]))
