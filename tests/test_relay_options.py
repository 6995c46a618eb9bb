"""
Tests for L{txendpoints._relay._options}: each option's parser, the
settings they make, and the argparse front end.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from tests import hypothesis_profiles  # noqa: F401
from txendpoints._relay._access import AccessPolicy, parseRule
from txendpoints._relay._options import (
    OPTIONS,
    RelaySettings,
    addArguments,
    installReactorNamed,
    parseAllow,
    parseConnectRetry,
    parseGrace,
    parseIdleTimeout,
    parseMaxConnections,
    parseMaxPerSource,
    parseProxyProtocol,
    parseRetryDelay,
    parseStats,
    settingsFrom,
)


class ParserTests(SynchronousTestCase):
    def bad(self, parse: Callable[[str], Any], text: str, message: str) -> None:
        with self.assertRaises(ValueError) as e:
            parse(text)
        self.assertEqual(str(e.exception), message)

    def test_wholeNumbers(self) -> None:
        self.assertEqual(parseMaxConnections("3"), 3)
        self.assertEqual(parseMaxPerSource("1"), 1)
        self.bad(
            parseMaxConnections,
            "0",
            "--max-connections '0' is not a number of 1 or more",
        )
        self.bad(
            parseMaxPerSource, "x", "--max-per-source 'x' is not a number of 1 or more"
        )
        self.bad(
            parseMaxPerSource,
            "-1",
            "--max-per-source '-1' is not a number of 1 or more",
        )

    def test_seconds(self) -> None:
        self.assertEqual(parseGrace("0"), 0.0)
        self.assertEqual(parseIdleTimeout("0.5"), 0.5)
        self.assertEqual(parseRetryDelay("2"), 2.0)
        self.assertEqual(parseStats("60"), 60.0)
        self.bad(
            parseGrace, "-1", "--grace '-1' is not a number of seconds (0 or more)"
        )
        for parse, name in (
            (parseIdleTimeout, "--idle-timeout"),
            (parseRetryDelay, "--retry-delay"),
            (parseStats, "--stats"),
        ):
            for text in ("0", "-1", "inf", "nan", "soon"):
                self.bad(
                    parse,
                    text,
                    f"{name} {text!r} is not a number of seconds (more than 0)",
                )

    def test_connectRetry(self) -> None:
        self.assertEqual(parseConnectRetry("0"), 0)
        self.assertEqual(parseConnectRetry("5"), 5)
        self.assertIsNone(parseConnectRetry("forever"))
        self.assertIsNone(parseConnectRetry("Forever"))
        self.bad(
            parseConnectRetry,
            "always",
            "--connect-retry 'always' is not a number of 0 or more, nor 'forever'",
        )

    def test_proxyProtocol(self) -> None:
        self.assertEqual(parseProxyProtocol("v1"), 1)
        self.assertEqual(parseProxyProtocol("V2"), 2)
        self.bad(parseProxyProtocol, "v3", "--proxy-protocol 'v3' is not v1 or v2")


class ArgumentTests(SynchronousTestCase):
    def parse(self, *argv: str) -> argparse.Namespace:
        parser = argparse.ArgumentParser(prog="relay")
        addArguments(parser)
        return parser.parse_args(argv)

    def test_defaults(self) -> None:
        self.assertEqual(settingsFrom(vars(self.parse())), RelaySettings())

    def test_every(self) -> None:
        args = self.parse(
            "--idle-timeout=30",
            "--connect-retry=forever",
            "--retry-delay=0.5",
            "--proxy-protocol=v2",
            "--allow=10.0.0.0/8",
            "--deny=10.1.0.0/16",
            "--allow=::1",
            "--max-per-source=4",
            "--stats=60",
            "--max-connections=9",
            "--grace=1",
            "--reactor=poll",
        )
        self.assertEqual(
            settingsFrom(vars(args)),
            RelaySettings(
                idleTimeout=30.0,
                connectRetry=None,
                retryDelay=0.5,
                proxyProtocol=2,
                access=AccessPolicy(
                    (
                        parseRule(True, "10.0.0.0/8"),
                        parseRule(False, "10.1.0.0/16"),
                        parseRule(True, "::1"),
                    )
                ),
                maxPerSource=4,
                statsInterval=60.0,
            ),
        )
        self.assertEqual(
            (args.max_connections, args.grace, args.reactor), (9, 1.0, "poll")
        )

    def test_badValueKeepsMessage(self) -> None:
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        with self.assertRaises(SystemExit):
            self.parse("--deny", "nowhere")
        self.assertIn(
            "argument --deny: --deny 'nowhere' is not an IP address or network",
            stderr.getvalue(),
        )

    def test_everyOptionHelped(self) -> None:
        parser = argparse.ArgumentParser(prog="relay")
        addArguments(parser)
        text = parser.format_help()
        for option in OPTIONS:
            self.assertIn(f"--{option.name} {option.metavar}", text)
        self.assertIn("--reactor NAME", text)


class ReactorTests(SynchronousTestCase):
    def test_unknown(self) -> None:
        with self.assertRaises(ValueError) as e:
            installReactorNamed("no-such-reactor")
        message = str(e.exception)
        self.assertTrue(
            message.startswith("--reactor 'no-such-reactor' is not a reactor here; ")
        )
        self.assertIn("select", message)

    def test_installs(self) -> None:
        from twisted.application import reactors

        installed: list[str] = []
        self.patch(reactors, "installReactor", installed.append)
        installReactorNamed("poll")
        self.assertEqual(installed, ["poll"])

    def test_alreadyInstalled(self) -> None:
        from twisted.application import reactors
        from twisted.internet.error import ReactorAlreadyInstalledError

        def installReactor(name: str) -> None:
            raise ReactorAlreadyInstalledError("reactor already installed")

        self.patch(reactors, "installReactor", installReactor)
        with self.assertRaises(ValueError) as e:
            installReactorNamed("poll")
        self.assertIn("a reactor is installed already", str(e.exception))

    def test_cannotImport(self) -> None:
        from twisted.application import reactors

        def installReactor(name: str) -> None:
            raise ImportError("No module named 'select.kqueue'")

        self.patch(reactors, "installReactor", installReactor)
        with self.assertRaises(ValueError) as e:
            installReactorNamed("kqueue")
        self.assertEqual(
            str(e.exception),
            "--reactor 'kqueue' cannot be installed: No module named 'select.kqueue'",
        )


class DocumentedTests(SynchronousTestCase):
    def test_everyOptionOnTheRelayPage(self) -> None:
        """
        docs/relay.rst has a word about each option, and the README names
        it.
        """
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        page = (root / "docs" / "relay.rst").read_text()
        readme = (root / "README.rst").read_text()
        for name in [o.name for o in OPTIONS] + ["reactor"]:
            self.assertIn(f"``--{name}", page, name)
            self.assertIn(f"``--{name}", readme, name)


class AnyTextTests(SynchronousTestCase):
    """
    Whatever text an option is given, its parser returns a value or
    raises L{ValueError} naming the option, never anything else.
    """

    @given(st.text(max_size=40))
    # Digits that str.isdigit takes and int() refuses; too many digits.
    @example("\u00b2")
    @example("\u0661")
    @example("9" * 5000)
    def test_anyText(self, text: str) -> None:
        for option in OPTIONS:
            try:
                option.parse(text)
            except ValueError as e:
                self.assertTrue(str(e).startswith(f"--{option.name} "), str(e))

    @given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
    def test_anyNetwork(self, address: Any, length: int) -> None:
        """
        Every address, with any prefix length its family allows, is a rule
        that matches it (as IPv4 if it is IPv4-mapped).
        """
        length = min(length, address.max_prefixlen)
        rule = parseAllow(f"{address}/{length}")
        ip = address.ipv4_mapped if getattr(address, "ipv4_mapped", None) else address
        if ip is not address and length < 96:
            self.assertEqual(rule.network.version, 6)
        else:
            self.assertIn(ip, rule.network)
