"""
Tests for L{txendpoints._strings._spec} and the value kinds and quoting it uses.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.endpoints import _parse
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import EndpointStringError
from txendpoints._strings._spec import Direction
from txendpoints._strings._specs import (
    HOST_SERVER,
    SOCKET_OPTION_NAMES,
    SPECS,
    TCP4_SERVER,
    TCP6_SERVER,
)

#: What every TCP server string has when it sets no socket option.
UNSET = dict.fromkeys(sorted(SOCKET_OPTION_NAMES))

#: The names the "valid options are" hint lists after a TCP4 server's own.
SOCKET_NAMES = (
    "noDelay, keepAlive, keepIdle, keepInterval, keepCount, userTimeout, "
    "bindDevice, receiveBuffer, sendBuffer, multipath, fastOpen"
)


def parseString(description: str) -> tuple[str, dict[str, Any]]:
    """
    Parse a whole endpoint string the way Twisted hands it to a plugin.
    """
    args, kwargs = _parse(description)
    prefix = args.pop(0)
    return prefix, SPECS[(prefix, "server")].parse(args, kwargs)


class SpecParseTests(SynchronousTestCase):
    """
    L{Spec.parse} gives typed values or an L{EndpointStringError} whose
    message names the prefix, the option and the value.
    """

    def assertMessage(self, description: str, message: str) -> EndpointStringError:
        with self.assertRaises(EndpointStringError) as e:
            parseString(description)
        self.assertEqual(str(e.exception), message)
        self.assertIsInstance(e.exception, ValueError)
        return e.exception

    def test_defaults(self) -> None:
        self.assertEqual(
            parseString("tx-tcp6:8080"),
            (
                "tx-tcp6",
                {
                    "port": 8080,
                    "backlog": 50,
                    "interface": "::",
                    "ipv6Only": None,
                    "reusePort": False,
                    **UNSET,
                },
            ),
        )
        self.assertEqual(
            parseString("tx-tcp4:80"),
            (
                "tx-tcp4",
                {
                    "port": 80,
                    "backlog": 50,
                    "interface": "",
                    "reusePort": False,
                    **UNSET,
                },
            ),
        )
        self.assertEqual(
            parseString("tx-host:80"),
            (
                "tx-host",
                {
                    "port": 80,
                    "backlog": 50,
                    "interface": "",
                    "ipv6Only": None,
                    "reusePort": False,
                    **UNSET,
                },
            ),
        )

    def test_keywords(self) -> None:
        self.assertEqual(
            parseString(r"tx-tcp6:port=8080:interface=\:\:1:backlog=10")[1],
            {
                "port": 8080,
                "backlog": 10,
                "interface": "::1",
                "ipv6Only": None,
                "reusePort": False,
                **UNSET,
            },
        )

    def test_listenerOptions(self) -> None:
        self.assertEqual(
            parseString("tx-tcp6:80:ipv6Only=no:reusePort=yes")[1],
            {
                "port": 80,
                "backlog": 50,
                "interface": "::",
                "ipv6Only": False,
                "reusePort": True,
                **UNSET,
            },
        )
        self.assertEqual(parseString("tx-tcp6:80:ipv6Only=YES")[1]["ipv6Only"], True)
        self.assertEqual(parseString("tx-tcp4:80:reusePort=1")[1]["reusePort"], True)
        self.assertEqual(parseString("tx-host:80:ipv6Only=0")[1]["ipv6Only"], False)

    def test_badListenerOptions(self) -> None:
        self.assertMessage(
            "tx-tcp6:80:ipv6Only=maybe",
            "tx-tcp6: ipv6Only 'maybe' is not one of yes, no, true, false, 1, 0",
        )
        self.assertMessage(
            "tx-tcp4:80:ipv6Only=yes",
            "tx-tcp4: option 'ipv6Only' is unknown; "
            f"valid options are port, backlog, interface, reusePort, {SOCKET_NAMES}",
        )
        self.assertMessage(
            "tx-tcp6:80:ipv6only=yes",
            "tx-tcp6: option 'ipv6only' is unknown; did you mean 'ipv6Only'?",
        )
        self.assertMessage(
            "tx-host:80:reuseport=yes",
            "tx-host: option 'reuseport' is unknown; did you mean 'reusePort'?",
        )

    def test_hostNameInterfaces(self) -> None:
        self.assertEqual(
            parseString("tx-tcp4:80:interface=localhost")[1]["interface"], "localhost"
        )
        self.assertEqual(
            parseString("tx-tcp6:80:interface=localhost")[1]["interface"], "localhost"
        )
        self.assertEqual(
            parseString("tx-host:80:interface=example.org")[1]["interface"],
            "example.org",
        )
        self.assertMessage(
            "tx-tcp6:80:interface=bad name",
            "tx-tcp6: interface 'bad name' is neither a host name nor an IPv6 address",
        )

    def test_scopedInterface(self) -> None:
        self.assertEqual(
            parseString(r"tx-tcp6:80:interface=fe80\:\:1%lo")[1]["interface"],
            "fe80::1%lo",
        )
        self.assertEqual(
            parseString(r"tx-tcp6:80:interface=fe80\:\:1%2")[1]["interface"],
            "fe80::1%2",
        )
        self.assertMessage(
            r"tx-tcp6:80:interface=fe80\:\:1%",
            "tx-tcp6: interface 'fe80::1%' is neither a host name nor an IPv6 address",
        )

    def test_hostAcceptsEitherFamily(self) -> None:
        self.assertEqual(
            parseString("tx-host:80:interface=127.0.0.1")[1]["interface"], "127.0.0.1"
        )
        self.assertEqual(
            parseString(r"tx-host:80:interface=\:\:1")[1]["interface"], "::1"
        )

    def test_badPort(self) -> None:
        e = self.assertMessage(
            "tx-tcp4:http", "tx-tcp4: port 'http' is not a number from 0 to 65535"
        )
        self.assertEqual((e.prefix, e.option, e.value), ("tx-tcp4", "port", "http"))

    def test_badBacklog(self) -> None:
        self.assertMessage(
            "tx-tcp6:80:backlog=0",
            "tx-tcp6: backlog '0' is not a number from 1 to 65535",
        )

    def test_unknownSuggests(self) -> None:
        e = self.assertMessage(
            "tx-tcp6:80:backlg=5",
            "tx-tcp6: option 'backlg' is unknown; did you mean 'backlog'?",
        )
        self.assertEqual(e.option, "backlg")
        # The text written for it, not None (issue 16).
        self.assertEqual(e.value, "5")

    def test_unknownWrongCase(self) -> None:
        self.assertMessage(
            "tx-tcp6:80:Interface=\\:\\:1",
            "tx-tcp6: option 'Interface' is unknown; did you mean 'interface'?",
        )

    def test_unknownNoSuggestion(self) -> None:
        self.assertMessage(
            "tx-tcp4:80:frobnicate=3",
            "tx-tcp4: option 'frobnicate' is unknown; "
            f"valid options are port, backlog, interface, reusePort, {SOCKET_NAMES}",
        )

    def test_emptyName(self) -> None:
        e = self.assertMessage(
            "tx-tcp4:80:=3", "tx-tcp4: an option has an empty name (a stray '=')"
        )
        self.assertEqual((e.option, e.value), ("", "3"))

    def test_missingPort(self) -> None:
        self.assertMessage("tx-tcp4:interface=127.0.0.1", "tx-tcp4: port is required")

    def test_emptyPort(self) -> None:
        self.assertMessage(
            "tx-tcp4::", "tx-tcp4: port '' is not a number from 0 to 65535"
        )
        self.assertMessage(
            "tx-tcp4:port=", "tx-tcp4: port '' is not a number from 0 to 65535"
        )

    def test_trailingEmptyPiece(self) -> None:
        """
        Exactly one trailing empty positional piece is dropped (Twisted's
        tokenizer makes one of a trailing C{:}), whatever the prefix.
        """
        self.assertEqual(parseString("tx-tcp4:8080:"), parseString("tx-tcp4:8080"))
        self.assertEqual(
            parseString("tx-tcp6:backlog=3:8080:"),
            parseString("tx-tcp6:8080:backlog=3"),
        )
        self.assertMessage("tx-tcp4:", "tx-tcp4: port is required")
        with self.assertRaises(EndpointStringError) as e:
            parseString("tx-tcp4:8080::")
        self.assertIn("unexpected positional argument(s) ''; ", str(e.exception))
        for prefix, direction in SPECS:
            if prefix == "tx-stdio":
                self.assertEqual(
                    SPECS[(prefix, direction)].parse([""], {}),
                    SPECS[(prefix, direction)].parse([], {}),
                )

    def test_tooManyPositional(self) -> None:
        """
        Twisted's C{tcp:80:81} silently takes 81 as the interface; ours says
        the argument is unexpected.
        """
        self.assertMessage(
            "tx-tcp4:80:81",
            "tx-tcp4: unexpected positional argument(s) '81'; "
            "it takes at most 1 (port)",
        )

    def test_unescapedIPv6(self) -> None:
        self.assertMessage(
            "tx-tcp6:80:interface=::1",
            "tx-tcp6: interface looks like an IPv6 address cut at its colons; "
            "write \\: for each ':' (for example interface=\\:\\:1); as "
            "written: unexpected positional argument(s) '', '1'; it takes at "
            "most 1 (port)",
        )

    def test_unescapedIPv6Positional(self) -> None:
        self.assertMessage(
            "tx-tcp6:::1",
            "tx-tcp6: an argument looks like an IPv6 address cut at its colons; "
            "write \\: for each ':' (for example \\:\\:1); as written: "
            "unexpected positional argument(s) '', '1'; it takes at most 1 (port)",
        )

    def test_unescapedIPv6Hints(self) -> None:
        """
        Wherever an unescaped IPv6 literal was cut (a client host given by
        position or keyword, a bracketed one, a zone, a bindAddress), the
        message names the option it was meant for and shows it escaped.
        """

        def hinted(name: str, example: str, reason: str) -> str:
            return (
                f"{name} looks like an IPv6 address cut at its colons; write "
                f"\\: for each ':' (for example {example}); as written: {reason}"
            )

        cases: list[tuple[str, Direction, str]] = [
            (
                "tx-tcp6:::1:80",
                "client",
                hinted(
                    "host",
                    "\\:\\:1",
                    "unexpected positional argument(s) '1', '80'; it takes at most 2 "
                    "(host, port)",
                ),
            ),
            (
                "tx-tcp6:fe80::1:80",
                "client",
                hinted(
                    "host",
                    "fe80\\:\\:1",
                    "unexpected positional argument(s) '1', '80'; it takes at most 2 "
                    "(host, port)",
                ),
            ),
            (
                "tx-host:[::1]:80",
                "client",
                hinted(
                    "host",
                    "[\\:\\:1]",
                    "unexpected positional argument(s) '1]', '80'; it takes at most 2 "
                    "(host, port)",
                ),
            ),
            (
                "tx-tcp6:2001:db8::1",
                "client",
                hinted(
                    "host",
                    "2001\\:db8\\:\\:1",
                    "unexpected positional argument(s) '', '1'; it takes at most 2 "
                    "(host, port)",
                ),
            ),
            (
                "tx-tcp6:host=::1:port=80",
                "client",
                hinted(
                    "host",
                    "host=\\:\\:1",
                    "host is given both by position ('') and by keyword ('')",
                ),
            ),
            (
                "tx-tcp6:bindAddress=::1",
                "client",
                hinted(
                    "bindAddress",
                    "bindAddress=\\:\\:1",
                    "host '' is empty",
                ),
            ),
            (
                "tx-tcp6:h:80:bindAddress=[::1]:5",
                "client",
                hinted(
                    "bindAddress",
                    "bindAddress=[\\:\\:1]\\:5",
                    "unexpected positional argument(s) '', '1]', '5'; it takes at most "
                    "2 (host, port)",
                ),
            ),
            (
                "tx-tcp6:interface=::1:80",
                "server",
                hinted(
                    "interface",
                    "interface=\\:\\:1",
                    "unexpected positional argument(s) '1', '80'; it takes at most 1 "
                    "(port)",
                ),
            ),
            (
                "tx-tcp6:8080:interface=fe80::1%eth0",
                "server",
                hinted(
                    "interface",
                    "interface=fe80\\:\\:1%eth0",
                    "unexpected positional argument(s) '', '1%eth0'; it takes at "
                    "most 1 (port)",
                ),
            ),
        ]
        for description, direction, message in cases:
            args, kwargs = _parse(description)
            prefix = args.pop(0)
            with self.assertRaises(EndpointStringError) as e:
                SPECS[(prefix, direction)].parse(args, kwargs)
            self.assertEqual(str(e.exception), f"{prefix}: {message}")

    def test_noIPv6HintWithoutAnAddressOption(self) -> None:
        """
        A prefix that takes no address gets no advice about writing one.
        """
        with self.assertRaises(EndpointStringError) as e:
            SPECS[("tx-stdio", "server")].parse(["", "", "1"], {})
        self.assertEqual(
            str(e.exception),
            "tx-stdio: unexpected positional argument(s) '', '', '1'; it takes none; "
            "give every option as name=value",
        )

    def test_noIPv6HintWithoutALiteral(self) -> None:
        self.assertMessage(
            "tx-tcp6:80:81:82",
            "tx-tcp6: unexpected positional argument(s) '81', '82'; it takes at "
            "most 1 (port)",
        )

    def test_bothPositionAndKeyword(self) -> None:
        self.assertMessage(
            "tx-tcp4:80:port=81",
            "tx-tcp4: port is given both by position ('80') and by keyword ('81')",
        )

    def test_wrongFamily(self) -> None:
        self.assertMessage(
            "tx-tcp6:80:interface=127.0.0.1",
            "tx-tcp6: interface '127.0.0.1' is an IPv4 address, but this "
            "endpoint needs an IPv6 address",
        )
        self.assertMessage(
            "tx-tcp4:80:interface=\\:\\:1",
            "tx-tcp4: interface '::1' is an IPv6 address, but this endpoint "
            "needs an IPv4 address",
        )

    def test_bytes(self) -> None:
        """
        Twisted hands a plugin C{bytes} when the description was C{bytes}.
        """
        self.assertEqual(
            TCP6_SERVER.parse([b"80"], {"interface": b"::1"}),
            {
                "port": 80,
                "backlog": 50,
                "interface": "::1",
                "ipv6Only": None,
                "reusePort": False,
                **UNSET,
            },
        )


# Far more than any message needs, far less than the inputs below.
SHORT_MESSAGE = 400


class CostTests(SynchronousTestCase):
    """
    Rejecting a string costs memory linear in its length and small, and its
    message quotes at most an excerpt of each piece of input.
    """

    def reject(self, prefix: str, description: str) -> EndpointStringError:
        args, kwargs = _parse(description)
        with self.assertRaises(EndpointStringError) as e:
            SPECS[(prefix, "server")].parse(args[1:], kwargs)
        self.assertLessEqual(len(str(e.exception)), SHORT_MESSAGE, str(e.exception))
        return e.exception

    def test_longValue(self) -> None:
        """
        A long value is shown as its first characters and its length;
        C{value} keeps it whole, as written.
        """
        value = "a" * 40 + "-" * 1_000_000
        error = self.reject("tx-tcp6", f"tx-tcp6:80:interface={value}")
        self.assertEqual(
            str(error),
            f"tx-tcp6: interface {'a' * 40!r}... (1000040 characters) is "
            "neither a host name nor an IPv6 address",
        )
        self.assertEqual(error.value, value)

    def test_longValues(self) -> None:
        """
        Every message that quotes input quotes an excerpt.
        """
        long = "-" * 100_000
        for description in [
            f"tx-tcp4:{long}",
            f"tx-tcp4:{long}:port={long}",
            f"tx-tcp4:80:{long}",
            f"tx-tcp4:80:{long}:{long}",
            f"tx-tcp4:80:{long}=1",
            f"tx-tcp4:80:b{long}=1",
        ]:
            self.assertRegex(
                str(self.reject("tx-tcp4", description)),
                r"'b?-{39,40}'\.\.\. \(10000[01] characters\)",
            )

    def test_hugeNumber(self) -> None:
        """
        A number of more digits than C{int()} takes is our error, naming
        the prefix, the option and an excerpt of the value.
        """
        error = self.reject("tx-tcp4", "tx-tcp4:80:backlog=" + "9" * 5_000)
        self.assertEqual(
            str(error),
            f"tx-tcp4: backlog {'9' * 40!r}... (5000 characters) is not a "
            "number from 1 to 65535",
        )
        self.assertEqual((error.prefix, error.option), ("tx-tcp4", "backlog"))

    def test_manyPieces(self) -> None:
        """
        Too many positional pieces are counted, not all listed.
        """
        for pieces in ["", "1"]:
            description = "tx-tcp6:80:" + ":".join([pieces] * 100_000)
            self.assertRegex(
                str(self.reject("tx-tcp6", description)), r"'1?' and 9999[67] more"
            )

    def test_memory(self) -> None:
        """
        Rejecting 100,000 pieces allocates no more than a few dozen bytes
        per character of input (the tokenizer's pieces and their copies).
        """
        for piece in ["", "1", "\\:"]:
            description = "tx-tcp6:" + ":".join([piece] * 100_000)
            args, kwargs = _parse(description)
            tracemalloc.start()
            try:
                with self.assertRaises(EndpointStringError):
                    TCP6_SERVER.parse(args[1:], kwargs)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            self.assertLess(peak, 40 * len(description))


ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
zone = st.one_of(
    st.integers(1, 999).map(str),
    st.from_regex(r"[a-z][a-z0-9.]{0,14}", fullmatch=True),
)
scoped = st.builds(lambda a, z: f"{a}%{z}", ipv6, zone)
names = st.from_regex(
    r"[a-z][a-z0-9-]{0,20}[a-z0-9](\.[a-z][a-z0-9]{0,10}){0,3}", fullmatch=True
)
INTERFACES = {
    "tx-tcp4": st.one_of(ipv4, names),
    "tx-tcp6": st.one_of(ipv6, scoped, names),
    "tx-host": st.one_of(ipv4, ipv6, scoped, names),
}


@st.composite
def serverValues(draw: st.DrawFn, prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {"port": draw(st.integers(0, 65535))}
    if draw(st.booleans()):
        values["backlog"] = draw(st.integers(1, 65535))
    if draw(st.booleans()):
        values["interface"] = draw(INTERFACES[prefix])
    if prefix != "tx-tcp4" and draw(st.booleans()):
        values["ipv6Only"] = draw(st.sampled_from(["yes", "no", "true", "0"]))
    if draw(st.booleans()):
        values["reusePort"] = draw(st.sampled_from(["yes", "no", "1", "False"]))
    return values


class RoundTripTests(SynchronousTestCase):
    """
    Spec.format writes the canonical string; parsing it gives the values back.
    """

    def test_canonical(self) -> None:
        self.assertEqual(
            TCP6_SERVER.format({"port": 8080, "backlog": 50, "interface": "::"}),
            "tx-tcp6:8080",
        )
        self.assertEqual(
            TCP6_SERVER.format({"port": 8080, "backlog": 10, "interface": "::1"}),
            "tx-tcp6:8080:backlog=10:interface=\\:\\:1",
        )
        self.assertEqual(
            TCP6_SERVER.format(
                {
                    "port": 80,
                    "interface": "fe80::1%lo",
                    "ipv6Only": False,
                    "reusePort": True,
                }
            ),
            "tx-tcp6:80:interface=fe80\\:\\:1%lo:ipv6Only=no:reusePort=yes",
        )
        self.assertEqual(
            HOST_SERVER.format({"port": 80, "interface": "localhost"}),
            "tx-host:80:interface=localhost",
        )

    @given(serverValues("tx-tcp4"))
    def test_tcp4(self, values: dict[str, Any]) -> None:
        parsed = TCP4_SERVER.parse([], values)
        self.assertEqual(parseString(TCP4_SERVER.format(parsed)), ("tx-tcp4", parsed))

    @given(serverValues("tx-tcp6"))
    def test_tcp6(self, values: dict[str, Any]) -> None:
        parsed = TCP6_SERVER.parse([], values)
        self.assertEqual(parseString(TCP6_SERVER.format(parsed)), ("tx-tcp6", parsed))

    @given(serverValues("tx-host"))
    def test_host(self, values: dict[str, Any]) -> None:
        parsed = HOST_SERVER.parse([], {k: str(v) for k, v in values.items()})
        self.assertEqual(parseString(HOST_SERVER.format(parsed)), ("tx-host", parsed))
