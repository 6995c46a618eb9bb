"""
The machinery of option specs: L{Option} and L{Spec}.  It may import
L{txendpoints._errors}, L{txendpoints._net} and the string layer's value
kinds and quoting.

Each prefix and direction has one L{Spec}: an ordered list of L{Option}s,
each with a name, an optional positional slot, a
L{Kind<txendpoints._strings._values.Kind>} that parses and formats its value, and a
default.  L{Spec.parse} turns the string pieces Twisted's tokenizer hands a
plugin into typed values, or raises L{EndpointStringError}; L{Spec.format}
turns typed values back into the canonical string, so that parse, format,
parse round-trips.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final, Generic, Literal, TypeVar

from .._errors import EndpointStringError
from ._quoting import escape, excerpt, ipv6Hint
from ._values import BindAddress, Host, InvalidValue, Kind

T = TypeVar("T")

Direction = Literal["server", "client"]


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


#: How many unexpected positional arguments a message lists.
_MOST_SHOWN: Final = 3


def closeMatches(name: str, names: Sequence[str]) -> list[str]:
    """
    The name in C{names} nearest to C{name}, if one is near enough.

    @param name: A misspelt name.
    @param names: The valid names.
    @return: The nearest, alone in a list, or an empty list.
    """
    # difflib indexes every character of name before it compares; no name
    # over 7/3 times the longest valid one can reach the 0.6 cutoff anyway.
    if len(name) > 3 * max(map(len, names), default=0):
        return []
    return difflib.get_close_matches(name, names, n=1, cutoff=0.6)


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
        return self._byName[name]

    @cached_property
    def _byName(self) -> dict[str, Option[Any]]:
        return {option.name: option for option in self.options}

    @cached_property
    def _hostOptions(self) -> frozenset[str]:
        return frozenset(
            option.name
            for option in self.options
            if isinstance(option.kind, Host | BindAddress)
        )

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

        @param message: What is wrong; it quotes input only through
            L{excerpt}, so that it stays short.
        @param option: The option at fault.
        @param value: The value at fault, whole: a caller that wants it
            has it, and it costs no more than the string it came from.
        @return: The error, to be raised.
        """
        return EndpointStringError(self.prefix, message, option, value)

    def _unknown(self, name: str, value: str) -> EndpointStringError:
        names = [o.name for o in self.options]
        if name == "":
            return self.error(
                "an option has an empty name (a stray '=')", option=name, value=value
            )
        byLower = {n.lower(): n for n in names}
        close = (
            [byLower[name.lower()]]
            if name.lower() in byLower
            else closeMatches(name, names)
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
        # The value is what was written for the unknown name: a caller
        # showing e.value shows the text at fault, not None.
        return self.error(
            f"option {excerpt(name)} is unknown{hint}", option=name, value=value
        )

    def _tooMany(self, extra: Sequence[str]) -> EndpointStringError:
        slots = [o.name for o in self.positionals]
        if slots:
            takes = f"it takes at most {len(slots)} ({', '.join(slots)})"
        else:
            takes = "it takes none; give every option as name=value"
        shown = ", ".join(excerpt(e) for e in extra[:_MOST_SHOWN])
        if len(extra) > _MOST_SHOWN:
            shown += f" and {len(extra) - _MOST_SHOWN} more"
        return self.error(
            f"unexpected positional argument(s) {shown}; {takes}",
            value=extra[0] if extra else None,
        )

    def parse(
        self, args: Sequence[object], kwargs: Mapping[str, object]
    ) -> dict[str, Any]:
        """
        Turn the pieces of an endpoint string into typed values.

        @param args: The positional pieces after the prefix, C{str} or
            C{bytes}, already unescaped by Twisted's tokenizer.  If the last
            is empty (a trailing C{:}), it is left out.
        @param kwargs: The keyword pieces.
        @return: A value for every option, defaults filled in.
        @raise EndpointStringError: For an unknown option, a value of the
            wrong type, a missing required option, too many positional
            arguments, or an option given both by position and keyword.
        """
        textArgs = [_asText(a) for a in args]
        textKwargs = {_asText(k): _asText(v) for k, v in kwargs.items()}
        for name, text in textKwargs.items():
            if name not in self._byName:
                raise self._unknown(name, text)
        # Twisted's tokenizer makes an empty last piece of a trailing ':'
        # (stdio:, tcp:8080:), which Twisted's own parsers accept; plugins
        # see only the pieces, so this is the one place to drop it.
        given = textArgs[:-1] if textArgs[-1:] == [""] else textArgs
        try:
            return self._parseKnown(given, textKwargs)
        except EndpointStringError as e:
            # Whatever went wrong, an IPv6 literal cut at its colons is the
            # likely cause, and what went wrong is then only its symptom:
            # say first how to write it.
            if not self._hostOptions:
                raise
            slots = [o.name for o in self.positionals]
            hint = ipv6Hint(self._hostOptions, slots, textArgs, textKwargs)
            if not hint:
                raise
            reason = str(e).removeprefix(f"{self.prefix}: ")
            raise self.error(
                f"{hint}; as written: {reason}", e.option, e.value
            ) from None

    def _parseKnown(
        self, textArgs: Sequence[str], textKwargs: Mapping[str, str]
    ) -> dict[str, Any]:
        slots = self.positionals
        if len(textArgs) > len(slots):
            raise self._tooMany(textArgs[len(slots) :])
        raw: dict[str, str] = {}
        for option, text in zip(slots, textArgs, strict=False):
            if option.name in textKwargs:
                raise self.error(
                    f"{option.name} is given both by position ({excerpt(text)}) "
                    f"and by keyword ({excerpt(textKwargs[option.name])})",
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
                    f"{option.name} {excerpt(text)} {e.reason}",
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
