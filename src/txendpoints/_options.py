"""
Typed option specs for endpoint strings: parse, validate, describe back.

Each prefix and direction has one L{Spec}: an ordered list of L{Option}s,
each with a name, an optional positional slot, a L{Kind} that parses and
formats its value, and a default.  L{Spec.parse} turns the string pieces
Twisted's tokenizer hands a plugin into typed values, or raises
L{EndpointStringError}; L{Spec.format} turns typed values back into the
canonical string, so that parse, format, parse round-trips.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Generic, Literal, TypeVar

T = TypeVar("T")

Direction = Literal["server", "client"]


class EndpointStringError(ValueError):
    """
    An endpoint string could not be parsed.

    The message names the prefix, the option and the offending value.

    @ivar prefix: The endpoint prefix, such as C{"tx-tcp6"}.
    @ivar option: The name of the option at fault, or L{None} when the
        problem is not with one option (too many positional arguments).
    @ivar value: The offending value as written, or L{None}.
    """

    def __init__(
        self,
        prefix: str,
        message: str,
        option: str | None = None,
        value: str | None = None,
    ) -> None:
        """
        @param prefix: The endpoint prefix.
        @param message: What is wrong, without the prefix.
        @param option: The option at fault, if any.
        @param value: The value at fault, if any.
        """
        super().__init__(f"{prefix}: {message}")
        self.prefix = prefix
        self.option = option
        self.value = value


class InvalidValue(Exception):
    """
    Raised by L{Kind.parse}; L{Spec.parse} turns it into an
    L{EndpointStringError} that names the prefix and the option.
    """

    def __init__(self, reason: str) -> None:
        """
        @param reason: The end of the sentence "option 'value' ...", such as
            C{"is not a number from 0 to 65535"}.
        """
        super().__init__(reason)
        self.reason = reason


class Kind(Generic[T]):
    """
    The type of an option: how to parse its text and how to write it back.

    @ivar description: A short human description of accepted values, used
        in generated documentation.
    """

    description: str = "text"

    def parse(self, text: str) -> T:
        """
        Parse C{text}.

        @param text: The value as it appeared in the string.
        @return: The typed value.
        @raise InvalidValue: If C{text} is not acceptable.
        """
        raise NotImplementedError()

    def format(self, value: T) -> str:
        """
        Write C{value} back as text that L{Kind.parse} accepts.

        @param value: A typed value.
        @return: Its canonical text, unescaped.
        """
        return str(value)


_DIGITS = re.compile(r"[0-9]+\Z")


@dataclass(frozen=True)
class Integer(Kind[int]):
    """
    A decimal integer within a closed range.

    @ivar low: The smallest accepted value.
    @ivar high: The largest accepted value, or L{None} for no bound.
    @ivar noun: What to call it in a message (C{"a number"}, C{"a file
        descriptor number"}).
    """

    low: int
    high: int | None = None
    noun: str = "a number"

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.high is None:
            return f"integer >= {self.low}"
        return f"integer {self.low}-{self.high}"

    def parse(self, text: str) -> int:
        if self.high is None:
            reason = (
                f"is not {self.noun} (0 or more)"
                if self.low == 0
                else (f"is not {self.noun} of {self.low} or more")
            )
        else:
            reason = f"is not {self.noun} from {self.low} to {self.high}"
        if not _DIGITS.match(text):
            raise InvalidValue(reason)
        value = int(text)
        if value < self.low or (self.high is not None and value > self.high):
            raise InvalidValue(reason)
        return value


PORT: Final = Integer(0, 65535)
BACKLOG: Final = Integer(1, 65535)
FD: Final = Integer(0, None, "a file descriptor number")


class Duration(Kind[float]):
    """
    A non-negative, finite number of seconds (C{0.25}, C{30}).
    """

    description = "seconds (decimal, >= 0)"

    def parse(self, text: str) -> float:
        reason = "is not a number of seconds (0 or more)"
        if not re.match(r"[0-9]*\.?[0-9]+\Z|[0-9]+\.\Z", text):
            raise InvalidValue(reason)
        value = float(text)
        if not math.isfinite(value):
            raise InvalidValue(reason)
        return value

    def format(self, value: float) -> str:
        # repr gives the shortest text that reads back as the same float;
        # Decimal writes it without the exponent that parse() rejects.
        text = format(Decimal(repr(float(value))), "f")
        return text[:-2] if text.endswith(".0") else text


DURATION: Final = Duration()

_TRUE = ("yes", "true", "1")
_FALSE = ("no", "false", "0")


class Boolean(Kind[bool]):
    """
    A yes/no flag: C{yes}, C{no}, C{true}, C{false}, C{1}, C{0}, in any case.
    """

    description = "yes|no|true|false|1|0"

    def parse(self, text: str) -> bool:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidValue("is not one of yes, no, true, false, 1, 0")

    def format(self, value: bool) -> str:
        return "yes" if value else "no"


BOOLEAN: Final = Boolean()

_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\Z")


def isHostName(text: str) -> bool:
    """
    Is C{text} a syntactically valid DNS host name (after IDNA encoding)?

    @param text: A candidate name, ASCII or Unicode.
    @return: L{True} if every label is 1-63 letters, digits, C{-} or C{_}
        (not starting or ending with C{-}) and the whole is at most 253
        characters.
    """
    try:
        ascii = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        return False
    ascii = ascii[:-1] if ascii.endswith(".") else ascii
    if not ascii or len(ascii) > 253:
        return False
    labels = ascii.split(".")
    if all(label.isdigit() for label in labels):
        # All-numeric names such as 1.2.3 are malformed IPv4, not names.
        return False
    return all(_LABEL.match(label) for label in labels)


def addressFamily(text: str) -> int | None:
    """
    Which IP version is the address literal C{text}?

    @param text: A candidate literal; an IPv6 literal may carry a
        C{%zone} suffix (C{fe80::1%lo}, C{fe80::1%2}).
    @return: C{4}, C{6}, or L{None} if C{text} is not an address literal.
    """
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


_FAMILY_NAMES: Final = {4: "IPv4", 6: "IPv6"}


@dataclass(frozen=True)
class Host(Kind[str]):
    """
    A host: an IP address literal and, if C{names} is set, a host name.

    @ivar family: C{4} or C{6} to accept only literals of that family, or
        L{None} for either.
    @ivar names: Whether host names are accepted as well as literals.
    @ivar empty: Whether the empty string is accepted (an interface of
        C{""} means every IPv4 interface, as in Twisted).
    """

    family: int | None = None
    names: bool = True
    empty: bool = False

    @property
    def description(self) -> str:  # type: ignore[override]
        what = (
            (_FAMILY_NAMES[self.family] + " address") if self.family else ("IP address")
        )
        if self.names:
            what = f"host name or {what}"
        return what

    def parse(self, text: str) -> str:
        if text == "" and self.empty:
            return text
        if text.startswith("[") and text.endswith("]"):
            # Accept the bracketed form people copy from URLs.
            text = text[1:-1]
        version = addressFamily(text)
        if version is not None:
            if self.family is not None and version != self.family:
                raise InvalidValue(
                    f"is an {_FAMILY_NAMES[version]} address, "
                    f"but this endpoint needs an {_FAMILY_NAMES[self.family]} "
                    "address"
                )
            return text
        if self.names and isHostName(text):
            return text
        if text == "":
            raise InvalidValue("is empty")
        wanted = _FAMILY_NAMES[self.family] if self.family else "IP"
        if self.names:
            raise InvalidValue(f"is neither a host name nor an {wanted} address")
        raise InvalidValue(f"is not an {wanted} address")


_MISSING: Any = object()


@dataclass(frozen=True)
class Option(Generic[T]):
    """
    One option of an endpoint string.

    @ivar name: Its keyword name (camelCase, as Twisted's).
    @ivar kind: Its type.
    @ivar default: Its default; L{REQUIRED} if it must be given.
    @ivar positional: Whether it may also be given by position.
        Positional options take the slots in the order they are declared.
    @ivar doc: One sentence for the generated string reference.
    """

    name: str
    kind: Kind[T]
    default: T | None = field(default=_MISSING)
    positional: bool = False
    doc: str = ""

    @property
    def required(self) -> bool:
        """
        Whether the option has no default.
        """
        return self.default is _MISSING


REQUIRED: Final = _MISSING


def unescape(text: str) -> str:
    """
    Undo L{escape}; the inverse of Twisted's backslash quoting.

    @param text: Escaped text.
    @return: The text with each C{\\x} replaced by C{x}.
    """
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def escape(text: str, positional: bool = False) -> str:
    """
    Quote C{text} so that Twisted's tokenizer gives it back unchanged.

    @param text: Raw option text.
    @param positional: Whether it will stand as a positional argument,
        where an unescaped C{=} would turn it into a keyword.
    @return: The text with C{\\}, C{:} (and for positional values C{=})
        escaped with a backslash.
    """
    text = text.replace("\\", "\\\\").replace(":", "\\:")
    if positional:
        text = text.replace("=", "\\=")
    return text


def _looksLikeAddressPiece(piece: str) -> bool:
    return bool(re.fullmatch(r"\[?[0-9A-Fa-f]{0,4}(%\S+)?\]?", piece))


def _asText(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


@dataclass(frozen=True)
class Spec:
    """
    The options of one prefix in one direction.

    @ivar prefix: The endpoint-string prefix (C{"tx-tcp6"}).
    @ivar direction: C{"server"} or C{"client"}.
    @ivar options: The options, positional ones first in slot order.
    @ivar summary: A one-line description.
    """

    prefix: str
    direction: Direction
    options: tuple[Option[Any], ...]
    summary: str

    def option(self, name: str) -> Option[Any]:
        """
        Look an option up by name.

        @param name: The option name.
        @return: The option.
        @raise KeyError: If there is none.
        """
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    @property
    def positionals(self) -> tuple[Option[Any], ...]:
        """
        The options that may be given by position, in slot order.
        """
        return tuple(o for o in self.options if o.positional)

    def error(
        self, message: str, option: str | None = None, value: str | None = None
    ) -> EndpointStringError:
        """
        Build an L{EndpointStringError} for this prefix.

        @param message: What is wrong.
        @param option: The option at fault.
        @param value: The value at fault.
        @return: The error, to be raised.
        """
        return EndpointStringError(self.prefix, message, option, value)

    def _unknown(self, name: str) -> EndpointStringError:
        names = [o.name for o in self.options]
        if name == "":
            return self.error("an option has an empty name (a stray '=')", option=name)
        byLower = {n.lower(): n for n in names}
        close = (
            [byLower[name.lower()]]
            if name.lower() in byLower
            else (difflib.get_close_matches(name, names, n=1, cutoff=0.6))
        )
        hint = (
            f"; did you mean '{close[0]}'?"
            if close
            else (
                f"; valid options are {', '.join(names)}"
                if names
                else "; it takes no options"
            )
        )
        return self.error(f"option '{name}' is unknown{hint}", option=name)

    def _tooMany(
        self, extra: Sequence[str], kwargs: Mapping[str, str]
    ) -> EndpointStringError:
        slots = [o.name for o in self.positionals]
        if slots:
            takes = f"it takes at most {len(slots)} ({', '.join(slots)})"
        else:
            takes = "it takes none; give every option as name=value"
        shown = ", ".join(repr(e) for e in extra)
        message = f"unexpected positional argument(s) {shown}; {takes}"
        # Twisted's tokenizer splits an unescaped IPv6 literal at each ':',
        # leaving empty or hex pieces behind: say how to escape it.
        if "" in extra and all(_looksLikeAddressPiece(e) for e in extra):
            hosts = [
                name
                for name, value in kwargs.items()
                if name in {o.name for o in self.options}
                and isinstance(self.option(name).kind, Host)
                and _looksLikeAddressPiece(value)
            ]
            example = f"{hosts[0]}=\\:\\:1" if hosts else "\\:\\:1"
            subject = hosts[0] if hosts else "this"
            message += (
                f". If {subject} is an IPv6 address, write \\: for each ':' "
                f"(for example {example})"
            )
        return self.error(message, value=extra[0] if extra else None)

    def parse(
        self, args: Sequence[object], kwargs: Mapping[str, object]
    ) -> dict[str, Any]:
        """
        Turn the pieces of an endpoint string into typed values.

        @param args: The positional pieces after the prefix, C{str} or
            C{bytes}, already unescaped by Twisted's tokenizer.
        @param kwargs: The keyword pieces.
        @return: A value for every option, defaults filled in.
        @raise EndpointStringError: For an unknown option, a value of the
            wrong type, a missing required option, too many positional
            arguments, or an option given both by position and keyword.
        """
        textArgs = [_asText(a) for a in args]
        textKwargs = {_asText(k): _asText(v) for k, v in kwargs.items()}
        known = {o.name for o in self.options}
        for name in textKwargs:
            if name not in known:
                raise self._unknown(name)
        slots = self.positionals
        if len(textArgs) > len(slots):
            raise self._tooMany(textArgs[len(slots) :], textKwargs)
        raw: dict[str, str] = {}
        for option, text in zip(slots, textArgs, strict=False):
            if option.name in textKwargs:
                raise self.error(
                    f"{option.name} is given both by position ({text!r}) and "
                    f"by keyword ({textKwargs[option.name]!r})",
                    option=option.name,
                    value=textKwargs[option.name],
                )
            raw[option.name] = text
        raw.update(textKwargs)
        values: dict[str, Any] = {}
        for option in self.options:
            if option.name not in raw:
                if option.required:
                    raise self.error(f"{option.name} is required", option=option.name)
                values[option.name] = option.default
                continue
            text = raw[option.name]
            try:
                values[option.name] = option.kind.parse(text)
            except InvalidValue as e:
                raise self.error(
                    f"{option.name} {text!r} {e.reason}",
                    option=option.name,
                    value=text,
                ) from None
        return values

    def format(self, values: Mapping[str, Any]) -> str:
        """
        Write typed values back as the canonical endpoint string.

        Positional options are written by position, the rest as
        C{name=value} in declaration order; options at their default are
        left out.

        @param values: A value per option name; missing names take their
            defaults.
        @return: A string that L{Spec.parse} (after Twisted's tokenizer)
            turns back into the same values.
        """
        pieces = [self.prefix]
        positionalDone = False
        for option in self.options:
            value = values.get(option.name, option.default)
            if not option.required and value == option.default:
                if option.positional:
                    positionalDone = True
                continue
            if value is None:
                continue
            text = option.kind.format(value)
            if option.positional and not positionalDone:
                pieces.append(escape(text, positional=True))
            else:
                positionalDone = True
                pieces.append(f"{option.name}={escape(text)}")
        return ":".join(pieces)


class Described:
    """
    Mixin for endpoints built from a L{Spec}: C{repr}, equality and
    L{describe} all come from the option values.

    Subclasses set C{_spec} and implement L{Described._optionValues}.
    """

    _spec: Spec

    def _optionValues(self) -> dict[str, Any]:
        """
        @return: The endpoint's value for each option of C{_spec}.
        """
        raise NotImplementedError()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._spec.format(self._optionValues())}>"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Described)
        return bool(
            getattr(self, "_reactor", None) is getattr(other, "_reactor", None)
            and self._optionValues() == other._optionValues()
        )

    def __hash__(self) -> int:
        return hash((type(self), self._spec.format(self._optionValues())))


def describe(endpoint: object) -> str:
    """
    The canonical endpoint string that builds an endpoint equal to
    C{endpoint}.

    @param endpoint: An endpoint from this package.
    @return: Its string, such as C{"tx-tcp6:8080:interface=\\:\\:1"}.
    @raise TypeError: If C{endpoint} is not one of ours.
    """
    if not isinstance(endpoint, Described):
        raise TypeError(
            f"describe() takes a txendpoints endpoint, not {type(endpoint).__name__}"
        )
    return endpoint._spec.format(endpoint._optionValues())


_SERVER_COMMON: Final = (
    Option(
        "port",
        PORT,
        REQUIRED,
        positional=True,
        doc="TCP port to listen on; 0 picks a free one.",
    ),
    Option("backlog", BACKLOG, 50, doc="Size of the listen queue."),
)

_REUSE_PORT: Final = Option(
    "reusePort",
    BOOLEAN,
    False,
    doc="Set SO_REUSEPORT so that several listeners can share the port.",
)

_IPV6_ONLY: Final = Option(
    "ipv6Only",
    BOOLEAN,
    None,
    doc=(
        "Set IPV6_V6ONLY on IPv6 sockets: yes refuses IPv4 clients, no accepts "
        "them as ::ffff:a.b.c.d; unset leaves the system default."
    ),
)

TCP4_SERVER: Final = Spec(
    "tx-tcp4",
    "server",
    (
        *_SERVER_COMMON,
        Option(
            "interface",
            Host(family=4, names=True, empty=True),
            "",
            doc=(
                "IPv4 address or host name to listen on (every IPv4 address "
                "of the name); empty means every IPv4 interface."
            ),
        ),
        _REUSE_PORT,
    ),
    "TCP listener on IPv4",
)

TCP6_SERVER: Final = Spec(
    "tx-tcp6",
    "server",
    (
        *_SERVER_COMMON,
        Option(
            "interface",
            Host(family=6, names=True),
            "::",
            doc=(
                "IPv6 address (fe80::1%eth0 with a zone) or host name to listen "
                "on (every IPv6 address of the name); :: means every interface."
            ),
        ),
        _IPV6_ONLY,
        _REUSE_PORT,
    ),
    "TCP listener on IPv6",
)

HOST_SERVER: Final = Spec(
    "tx-host",
    "server",
    (
        *_SERVER_COMMON,
        Option(
            "interface",
            Host(family=None, names=True, empty=True),
            "",
            doc=(
                "Host name or address to listen on, on every IPv4 and IPv6 "
                "address of the name; empty means every interface of both "
                "families."
            ),
        ),
        _IPV6_ONLY,
        _REUSE_PORT,
    ),
    "TCP listener on every address of a name, IPv4 and IPv6",
)

_STDIO_OPTIONS: Final = (
    Option("stdin", FD, 0, doc="File descriptor to read from."),
    Option("stdout", FD, 1, doc="File descriptor to write to."),
)

STDIO_SERVER: Final = Spec(
    "tx-stdio",
    "server",
    _STDIO_OPTIONS,
    "the process's standard input and output as a port with one connection",
)

STDIO_CLIENT: Final = Spec(
    "tx-stdio",
    "client",
    _STDIO_OPTIONS,
    "the process's standard input and output as a client connection",
)


@dataclass(frozen=True)
class BindAddress(Kind[tuple[str, int]]):
    """
    A local address for a client socket: C{host}, or C{host:port} (C{[host]:port}
    for an IPv6 literal), as a C{(host, port)} tuple like Twisted's.

    @ivar family: C{4} or C{6} to accept only literals of that family, or
        L{None} for either.
    """

    family: int | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        return Host(self.family).description + ", optionally with :port"

    def parse(self, text: str) -> tuple[str, int]:
        host, port = text, "0"
        if text.startswith("[") and "]:" in text:
            host, port = text[1:].split("]:", 1)
        elif text.count(":") == 1:
            host, port = text.split(":")
        try:
            number = PORT.parse(port)
        except InvalidValue:
            raise InvalidValue(
                "has a port that is not a number from 0 to 65535"
            ) from None
        return Host(self.family, empty=True).parse(host), number

    def format(self, value: tuple[str, int]) -> str:
        host, port = value
        if not port:
            return host
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _clientOptions(family: int | None) -> tuple[Option[Any], ...]:
    return (
        Option(
            "host",
            Host(family=family),
            REQUIRED,
            positional=True,
            doc="Host name or address literal to connect to.",
        ),
        Option("port", PORT, REQUIRED, positional=True, doc="TCP port to connect to."),
        Option(
            "timeout",
            DURATION,
            30.0,
            doc="Seconds for the whole connect, name resolution included.",
        ),
        Option(
            "bindAddress",
            BindAddress(family),
            None,
            doc="Local address (and :port) to connect from.",
        ),
        Option(
            "attemptDelay",
            DURATION,
            0.25,
            doc="Seconds before trying the next address while one is silent; "
            "0 tries one at a time.",
        ),
    )


TCP4_CLIENT: Final = Spec(
    "tx-tcp4",
    "client",
    _clientOptions(4),
    "TCP client over IPv4, trying every A record",
)

TCP6_CLIENT: Final = Spec(
    "tx-tcp6",
    "client",
    _clientOptions(6),
    "TCP client over IPv6, trying every AAAA record",
)

HOST_CLIENT: Final = Spec(
    "tx-host",
    "client",
    (
        *_clientOptions(None),
        Option(
            "resolutionDelay",
            DURATION,
            0.05,
            doc="Seconds to wait for the preferred family's answer when the "
            "other family answers first.",
        ),
        Option(
            "preferIPv6",
            BOOLEAN,
            True,
            doc="Try IPv6 first; no starts with IPv4.",
        ),
    ),
    "TCP client over IPv6 and IPv4 with Happy Eyeballs (RFC 8305)",
)

#: Every spec, by prefix and direction.
SPECS: Final[dict[tuple[str, Direction], Spec]] = {
    (spec.prefix, spec.direction): spec
    for spec in (
        TCP4_SERVER,
        TCP6_SERVER,
        HOST_SERVER,
        STDIO_SERVER,
        TCP4_CLIENT,
        TCP6_CLIENT,
        HOST_CLIENT,
        STDIO_CLIENT,
    )
}
