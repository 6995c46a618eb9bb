"""
The types of endpoint-string options: how each one's text is parsed,
checked and written back.

A L{Kind} raises L{InvalidValue} with the end of a sentence ("is not a number
from 0 to 65535"); L{txendpoints._strings._spec.Spec} turns that into an
L{txendpoints.EndpointStringError} naming the prefix and the option.

It may import only L{txendpoints._net}.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Generic, TypeVar

from .._net import FAMILY_NAMES, addressFamily, isHostName

T = TypeVar("T")


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
        digits = text.lstrip("0") or "0"
        if self.high is not None and len(digits) > len(str(self.high)):
            raise InvalidValue(reason)
        try:
            value = int(digits)
        except ValueError:
            # More digits than int() takes (sys.get_int_max_str_digits()):
            # far beyond anything an unbounded option could mean.
            raise InvalidValue(reason) from None
        if value < self.low or (self.high is not None and value > self.high):
            raise InvalidValue(reason)
        return value


PORT: Final = Integer(0, 65535)
BACKLOG: Final = Integer(1, 65535)
FD: Final = Integer(0, None, "a file descriptor number")


# One way to match each text: "[0-9]*\.?[0-9]+" backtracks over every
# split of a long run of digits, in time quadratic in its length.
_SECONDS = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")


class Duration(Kind[float]):
    """
    A non-negative, finite number of seconds (C{0.25}, C{30}).
    """

    description = "seconds (decimal, >= 0)"

    def parse(self, text: str) -> float:
        reason = "is not a number of seconds (0 or more)"
        if not _SECONDS.match(text):
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


# The IDNA codec splits names at these.
_LABELS = re.compile("[.\u3002\uff0e\uff61]")


def _mayBeHost(text: str) -> bool:
    """
    Whether C{text} is short enough to be a host name or an address.

    A DNS name is at most 253 characters (254 with the final dot) in labels
    of at most 63, and IDNA never makes a label shorter than it is written,
    except by dropping characters such as soft hyphens that have no place
    in a name we are given.  IDNA's punycode takes time quadratic in the
    length of a label, so this is asked first.
    """
    return len(text) <= 254 and all(len(label) <= 63 for label in _LABELS.split(text))


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
            (FAMILY_NAMES[self.family] + " address") if self.family else ("IP address")
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
        version = addressFamily(text) if _mayBeHost(text) else None
        if version is not None:
            if self.family is not None and version != self.family:
                raise InvalidValue(
                    f"is an {FAMILY_NAMES[version]} address, "
                    f"but this endpoint needs an {FAMILY_NAMES[self.family]} "
                    "address"
                )
            return text
        if self.names and _mayBeHost(text) and isHostName(text):
            return text
        if text == "":
            raise InvalidValue("is empty")
        wanted = FAMILY_NAMES[self.family] if self.family else "IP"
        if self.names:
            raise InvalidValue(f"is neither a host name nor an {wanted} address")
        raise InvalidValue(f"is not an {wanted} address")


@dataclass(frozen=True)
class BindAddress(Kind[tuple[str, int]]):
    """
    A local address for a client socket: C{host}, or C{host:port} (C{[host]:port}
    for an IPv6 literal), as a C{(host, port)} tuple like Twisted's.

    @ivar family: C{4} or C{6} to accept only literals of that family, or
        L{None} for either.
    @ivar names: Whether host names are accepted as well as literals.
    """

    family: int | None = None
    names: bool = True

    @property
    def description(self) -> str:  # type: ignore[override]
        return Host(self.family, self.names).description + ", optionally with :port"

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
        return Host(self.family, self.names, empty=True).parse(host), number

    def format(self, value: tuple[str, int]) -> str:
        host, port = value
        if not port:
            return host
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_SIZE = re.compile(r"([0-9]+)([kKmM]?)\Z")
_UNITS: Final = {"": 1, "k": 1024, "m": 1024 * 1024}


@dataclass(frozen=True)
class Size(Kind[int]):
    """
    A number of bytes, with an optional C{K} (KiB) or C{M} (MiB) suffix:
    C{65536}, C{64K}, C{4M}.

    @ivar low: The smallest accepted value.
    @ivar high: The largest accepted value.
    """

    low: int
    high: int

    description = "bytes, with an optional K or M (1024, 1024*1024)"

    def parse(self, text: str) -> int:
        reason = (
            f"is not a number of bytes from {self.low} to {self.high} (K, M allowed)"
        )
        match = _SIZE.match(text)
        if match is None:
            raise InvalidValue(reason)
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) > len(str(self.high)):
            raise InvalidValue(reason)
        value = int(digits) * _UNITS[match.group(2).lower()]
        if not self.low <= value <= self.high:
            raise InvalidValue(reason)
        return value

    def format(self, value: int) -> str:
        for suffix, unit in (("M", 1024 * 1024), ("K", 1024)):
            if value and value % unit == 0:
                return f"{value // unit}{suffix}"
        return str(value)


@dataclass(frozen=True)
class Seconds(Duration):
    """
    A L{Duration} above zero and at most C{high}.

    @ivar high: The largest accepted value.
    """

    high: float

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"seconds (decimal, above 0, at most {self.high})"

    def parse(self, text: str) -> float:
        reason = f"is not a number of seconds above 0 and at most {self.high}"
        try:
            value = super().parse(text)
        except InvalidValue:
            raise InvalidValue(reason) from None
        if not 0 < value <= self.high:
            raise InvalidValue(reason)
        return value


@dataclass(frozen=True)
class Device(Kind[str]):
    """
    A network interface name, such as C{lo} or C{eth0}.

    @ivar longest: The longest name in bytes (Linux's C{IFNAMSIZ} less one).
    """

    longest: int

    description = "network interface name"

    def parse(self, text: str) -> str:
        if (
            not text
            or len(text.encode("utf-8", "surrogateescape")) > self.longest
            or text in (".", "..")
            or any(c in text for c in "/\0")
            or any(c.isspace() for c in text)
        ):
            raise InvalidValue(
                f"is not a network interface name (1 to {self.longest} bytes, "
                "no '/', NUL or white space)"
            )
        return text
