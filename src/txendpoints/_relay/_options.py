"""
The relay's options, in one table that both front ends read: the
C{txendpoints relay} command (L{addArguments}, for argparse) and C{twist
tx-relay} (L{txendpoints._relay._twist.Options}, for Twisted's usage),
so that each option has one name, one parser and one help text.

Each C{parse*} function takes the option's text and raises L{ValueError}
with a message that names the option and the value.

It may import L{txendpoints._relay._access}, attrs, Twisted and the
standard library; it must stay cheap to import, since the command imports
it to build its parser whatever the subcommand.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from ._access import AccessPolicy, Rule, parseRule

#: The relay's listen queue unless the LISTEN string sets C{backlog}:
#: Twisted's 50 overflows under a burst of a few hundred connections.
RELAY_BACKLOG = 1024

#: The longest wait between two connect attempts, unless C{--retry-delay}
#: asks for a longer first one.
MAX_RETRY_DELAY = 30.0


def _number(option: str, text: str, what: str, low: float, strict: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > low if strict else value >= low) or math.isinf(value):
        raise ValueError(f"{option} {text!r} is not {what}")
    return value


def _digits(text: str) -> int | None:
    """
    @return: The whole number C{text} spells in ASCII digits, or L{None}
        (str.isdigit also takes C{'²'}, which int() refuses, and int()
        refuses more than a few thousand digits).
    """
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 30:
        return None
    return int(text)


def _whole(option: str, text: str, low: int) -> int:
    value = _digits(text)
    if value is None or value < low:
        raise ValueError(f"{option} {text!r} is not a number of {low} or more")
    return value


def parseMaxConnections(text: str) -> int:
    """
    Parse a C{--max-connections} value: a whole number of 1 or more.
    """
    return _whole("--max-connections", text, 1)


def parseGrace(text: str) -> float:
    """
    Parse a C{--grace} value: seconds, finite and not negative.
    """
    return _number("--grace", text, "a number of seconds (0 or more)", 0, False)


def parseIdleTimeout(text: str) -> float:
    """
    Parse an C{--idle-timeout} value: seconds, more than 0.
    """
    return _number("--idle-timeout", text, "a number of seconds (more than 0)", 0, True)


def parseConnectRetry(text: str) -> int | None:
    """
    Parse a C{--connect-retry} value: how many times to try again.

    @return: The number, or L{None} for C{forever}.
    """
    if text.strip().lower() == "forever":
        return None
    value = _digits(text)
    if value is None:
        raise ValueError(
            f"--connect-retry {text!r} is not a number of 0 or more, nor 'forever'"
        )
    return value


def parseRetryDelay(text: str) -> float:
    """
    Parse a C{--retry-delay} value: seconds, more than 0.
    """
    return _number("--retry-delay", text, "a number of seconds (more than 0)", 0, True)


def parseProxyProtocol(text: str) -> int:
    """
    Parse a C{--proxy-protocol} value, C{v1} or C{v2}.

    @return: The version, 1 or 2.
    """
    version = {"v1": 1, "v2": 2, "1": 1, "2": 2}.get(text.strip().lower())
    if version is None:
        raise ValueError(f"--proxy-protocol {text!r} is not v1 or v2")
    return version


def parseMaxPerSource(text: str) -> int:
    """
    Parse a C{--max-per-source} value: a whole number of 1 or more.
    """
    return _whole("--max-per-source", text, 1)


def parseStats(text: str) -> float:
    """
    Parse a C{--stats} value: seconds between two statistics lines.
    """
    return _number("--stats", text, "a number of seconds (more than 0)", 0, True)


def parseAllow(text: str) -> Rule:
    """
    Parse an C{--allow} value; see L{parseRule}.
    """
    return parseRule(True, text)


def parseDeny(text: str) -> Rule:
    """
    Parse a C{--deny} value; see L{parseRule}.
    """
    return parseRule(False, text)


@frozen
class RelaySettings:
    """
    What a relay does beyond moving bytes; the defaults do none of it.

    @ivar idleTimeout: Seconds without a byte either way after which a
        relayed connection is closed, or L{None}.
    @ivar connectRetry: How many more connect attempts after the first
        fails with a connection error; L{None} for no end.
    @ivar retryDelay: Seconds before the first retry; each later one waits
        twice as long as the one before, up to L{MAX_RETRY_DELAY} (or
        C{retryDelay}, if that is longer).
    @ivar proxyProtocol: The PROXY protocol version sent to the upstream
        first (1 or 2), or L{None}.
    @ivar access: The C{--allow} and C{--deny} rules.
    @ivar maxPerSource: How many relays one source address may have open,
        or L{None}.
    @ivar statsInterval: Seconds between two statistics lines, or L{None}.
    """

    idleTimeout: float | None = None
    connectRetry: int | None = 0
    retryDelay: float = 1.0
    proxyProtocol: int | None = None
    access: AccessPolicy = field(factory=AccessPolicy)
    maxPerSource: int | None = None
    statsInterval: float | None = None


@frozen
class RelayOption:
    """
    One option of the relay, for both front ends.

    @ivar name: Its long name, without C{--}.
    @ivar metavar: What to call its value in help.
    @ivar parse: Turns its text into its value.
    @ivar help: Its help text.
    @ivar default: Its value when not given.
    @ivar rule: Whether it is an access rule (repeatable; the order of all
        rules counts).
    """

    name: str
    metavar: str
    parse: Callable[[str], Any]
    help: str
    default: Any = None
    rule: bool = False

    @property
    def dest(self) -> str:
        """
        Where argparse keeps its value.
        """
        return "access" if self.rule else self.name.replace("-", "_")


#: Every option of the relay, in the order help lists them.
OPTIONS: tuple[RelayOption, ...] = (
    RelayOption(
        "max-connections",
        "N",
        parseMaxConnections,
        "refuse connections while N are open (default: no limit)",
    ),
    RelayOption(
        "grace",
        "SECONDS",
        parseGrace,
        "on SIGINT or SIGTERM, stop listening and give open connections "
        "this long to finish (default: 5); a second signal ends them at once",
        5.0,
    ),
    RelayOption(
        "idle-timeout",
        "SECONDS",
        parseIdleTimeout,
        "close both sides of a relayed connection once no byte has moved "
        "either way for this long (default: never)",
    ),
    RelayOption(
        "connect-retry",
        "N",
        parseConnectRetry,
        "when connecting to CONNECT fails with a connection error (refused, "
        "unreachable, timed out), try again up to N times, or 'forever', "
        "holding what the client sends meanwhile (default: 0)",
        0,
    ),
    RelayOption(
        "retry-delay",
        "SECONDS",
        parseRetryDelay,
        "wait this long before the first retry, twice as long before each "
        f"next one, up to {MAX_RETRY_DELAY:g} s (default: 1)",
        1.0,
    ),
    RelayOption(
        "proxy-protocol",
        "v1|v2",
        parseProxyProtocol,
        "send CONNECT a PROXY protocol header (HAProxy's, text v1 or binary "
        "v2) with the client's source and destination addresses first",
    ),
    RelayOption(
        "allow",
        "CIDR",
        parseAllow,
        "let in clients from this address or network; repeatable, the first "
        "--allow or --deny that matches decides, and with any --allow a "
        "client that matches none is refused",
        rule=True,
    ),
    RelayOption(
        "deny",
        "CIDR",
        parseDeny,
        "refuse clients from this address or network; repeatable",
        rule=True,
    ),
    RelayOption(
        "max-per-source",
        "N",
        parseMaxPerSource,
        "refuse a client while N connections from its address are open "
        "(default: no limit)",
    ),
    RelayOption(
        "stats",
        "SECONDS",
        parseStats,
        "log a statistics line this often (one is logged on SIGUSR1 too)",
    ),
)


#: The help of C{--reactor}, which each front end handles its own way.
REACTOR_HELP = (
    "the Twisted reactor to use, as with twist --reactor: asyncio, epoll, "
    "poll, select... (default: Twisted's default)"
)


def settingsFrom(values: Mapping[str, Any]) -> RelaySettings:
    """
    Gather parsed option values into L{RelaySettings}.

    @param values: The values by L{RelayOption.dest}, as argparse leaves
        them; the access rules, in order, under C{"access"}.
    @return: The settings.
    """
    return RelaySettings(
        idleTimeout=values.get("idle_timeout"),
        connectRetry=values.get("connect_retry", 0),
        retryDelay=values.get("retry_delay", 1.0),
        proxyProtocol=values.get("proxy_protocol"),
        access=AccessPolicy(tuple(values.get("access") or ())),
        maxPerSource=values.get("max_per_source"),
        statsInterval=values.get("stats"),
    )


def _argparseType(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    # argparse reports a ValueError from a type function as "invalid
    # <name> value"; ArgumentTypeError keeps our message.
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return convert


def addArguments(parser: argparse.ArgumentParser) -> None:
    """
    Add every relay option to an argparse parser.

    @param parser: The parser of C{txendpoints relay}.
    """
    for option in OPTIONS:
        parser.add_argument(
            f"--{option.name}",
            metavar=option.metavar,
            type=_argparseType(option.parse),
            default=[] if option.rule else option.default,
            dest=option.dest,
            action="append" if option.rule else "store",
            help=option.help,
        )
    parser.add_argument("--reactor", metavar="NAME", help=REACTOR_HELP)


def installReactorNamed(name: str) -> None:
    """
    Install the reactor that twist and twistd call C{name} (C{--reactor}).

    It must run before anything imports C{twisted.internet.reactor}, which
    installs the default one.

    @param name: The reactor's short name, such as C{asyncio} or C{poll}.
    @raise ValueError: If there is no such reactor, or one is installed
        already.
    """
    from twisted.application.reactors import (
        NoSuchReactor,
        getReactorTypes,
        installReactor,
    )
    from twisted.internet.error import ReactorAlreadyInstalledError

    try:
        installReactor(name)
    except NoSuchReactor:
        names = ", ".join(sorted(r.shortName for r in getReactorTypes()))
        raise ValueError(
            f"--reactor {name!r} is not a reactor here; choose from {names}"
        ) from None
    except ReactorAlreadyInstalledError:
        raise ValueError(
            f"--reactor {name!r}: a reactor is installed already "
            "(give --reactor once, before anything that needs a reactor)"
        ) from None
    except Exception as e:
        # A reactor this platform lacks fails to import.
        raise ValueError(f"--reactor {name!r} cannot be installed: {e}") from None
