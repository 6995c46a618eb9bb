"""
Endpoint strings parsed fast: one prefix table per process.

Twisted's C{serverFromString} and C{clientFromString} ask C{getPlugins} for
every parser on each call with a plugin prefix, which rescans the plugin
directories (hundreds of microseconds).  Ours build a table from
C{getPlugins} once, the first time it is needed, and look prefixes up in
it; L{rebuildPrefixTable} rebuilds it after plugins are installed at run
time.  Built-in types (C{tcp}, C{ssl}, C{unix}) go through Twisted's own
code, so every string gives the same endpoint as with Twisted's functions.

Our tokenizer gives exactly what Twisted's gives, but it rejects a trailing
lone backslash (Twisted raises C{RuntimeError}) and, for our own prefixes,
a keyword given twice (Twisted silently keeps the last one).

It may import the rest of the string layer and everything below it.
"""

from __future__ import annotations

import operator
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from twisted.internet import endpoints as _twisted
from twisted.internet.interfaces import (
    IStreamClientEndpoint,
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from twisted.plugin import getPlugins

from .._errors import EndpointStringError
from ._parsers import ClientParser, ServerParser
from ._provenance import distributionOf
from ._quoting import excerpt, named
from ._spec import Direction, Spec, closeMatches

# Twisted's endpoint-string functions and tables carry no annotations.
_untyped: Any = _twisted


class PrefixCollisionWarning(UserWarning):
    """
    Two installed plugins claim the same endpoint-string prefix.

    Twisted uses whichever it happens to find first; so do we, after saying
    which distributions collide.
    """


class Tokens(NamedTuple):
    """
    An endpoint string split the way Twisted's tokenizer splits it.

    @ivar args: The positional pieces, the prefix first, unescaped.
    @ivar kwargs: The keyword pieces; for a repeated name, the last value.
    @ivar keywords: Every keyword piece in order, repeats included.
    @ivar dangling: Where a trailing lone backslash was: C{None} if there is
        none, the keyword name if it ends a keyword value, or the index into
        C{args} of the positional piece it ends.
    """

    args: list[str]
    kwargs: dict[str, str]
    keywords: list[tuple[str, str]]
    dangling: str | int | None


# One piece up to an unescaped ':' or the end: a name or positional value,
# an optional '=' and value (in which '=' is literal), and a trailing lone
# backslash if the string ends in one.
_PIECE = re.compile(
    r"([^\\:=]*(?:\\.[^\\:=]*)*)(=?)([^\\:]*(?:\\.[^\\:]*)*)(\\?)(:|\Z)", re.S
)
_ESCAPED = re.compile(r"\\(.)", re.S)
_ESCAPED_CHAR = operator.itemgetter(1)  # much faster than a "\\1" template


def _unescape(text: str) -> str:
    return _ESCAPED.sub(_ESCAPED_CHAR, text) if "\\" in text else text


def tokenize(description: str) -> Tokens:
    """
    Split an endpoint string into positional and keyword pieces.

    The result is the same as Twisted's private C{_parse}: pieces are
    separated by C{:}, a piece with an C{=} is a keyword (only its first
    C{=} counts), and a backslash makes the next character literal.

    @param description: The endpoint string.
    @return: Its pieces.
    """
    args: list[str] = []
    kwargs: dict[str, str] = {}
    keywords: list[tuple[str, str]] = []
    if "\\" not in description:
        # The common case: no escapes, so plain splitting is exact.
        for piece in description.split(":"):
            name, equals, value = piece.partition("=")
            if equals:
                kwargs[name] = value
                keywords.append((name, value))
            else:
                args.append(piece)
        return Tokens(args, kwargs, keywords, None)
    dangling: str | int | None = None
    position = 0
    while True:
        match = _PIECE.match(description, position)
        assert match is not None  # Every group can match the empty string.
        first, equals, value, backslash, colon = match.groups()
        first = _unescape(first)
        if equals:
            value = _unescape(value)
            kwargs[first] = value
            keywords.append((first, value))
            if backslash:
                dangling = first
        else:
            if backslash:
                dangling = len(args)
            args.append(first)
        if not colon:
            break
        position = match.end()
    return Tokens(args, kwargs, keywords, dangling)


@dataclass
class PrefixTable:
    """
    The parsers of one direction, by lower-case prefix.

    @ivar parsers: The parser Twisted would pick for each prefix.
    @ivar collisions: For each prefix claimed more than once, every parser
        that claims it, the one in C{parsers} first.
    @ivar warned: Prefixes whose collision has been reported.
    """

    parsers: dict[str, Any] = field(default_factory=dict)
    collisions: dict[str, list[Any]] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)


def _buildTable(plugins: Iterable[Any]) -> PrefixTable:
    table = PrefixTable()
    for plugin in plugins:
        key = str(plugin.prefix).lower()
        if key in table.parsers:
            table.collisions.setdefault(key, [table.parsers[key]]).append(plugin)
        else:
            table.parsers[key] = plugin
    return table


_tables: dict[Direction, PrefixTable] = {}


def rebuildPrefixTable() -> None:
    """
    Forget the prefix table, so that the next lookup asks C{getPlugins}
    again.  Call it after installing endpoint plugins in a running process.
    """
    _tables.clear()


def prefixTable(direction: Direction) -> PrefixTable:
    table = _tables.get(direction)
    if table is None:
        interface = (
            IStreamServerEndpointStringParser
            if direction == "server"
            else IStreamClientEndpointStringParserWithReactor
        )
        table = _tables[direction] = _buildTable(getPlugins(interface))
    return table


def _names(table: str, fallback: Iterable[str]) -> frozenset[str]:
    return frozenset(name.lower() for name in getattr(_twisted, table, fallback))


#: The types Twisted handles itself before it looks at plugins.
BUILTINS: dict[Direction, frozenset[str]] = {
    "server": _names("_serverParsers", ("tcp", "ssl", "unix")),
    "client": _names("_clientParsers", ("tcp", "ssl", "unix")),
}


def _bare(message: str) -> EndpointStringError:
    # An error about the string as a whole, with no prefix to name.
    error = EndpointStringError("", message)
    error.args = (message,)
    return error


def _unknownType(prefix: str, direction: Direction) -> EndpointStringError:
    known = sorted(set(prefixTable(direction).parsers) | BUILTINS[direction])
    close = closeMatches(prefix.lower(), known)
    hint = f"did you mean '{close[0]}'?" if close else "see 'txendpoints list'"
    return _bare(f"unknown {direction} endpoint type {excerpt(prefix)}; {hint}")


def _warnCollision(key: str, direction: Direction, table: PrefixTable) -> None:
    if key in table.warned:
        return
    table.warned.add(key)
    claimants = table.collisions[key]
    names = [distributionOf(plugin) for plugin in claimants]
    warnings.warn(
        f"the {direction} endpoint prefix '{key}' is claimed by "
        + " and by ".join(
            f"{p!r} from {n}" for p, n in zip(claimants, names, strict=True)
        )
        + f"; using the one from {names[0]}",
        PrefixCollisionWarning,
        stacklevel=4,
    )


def _checkGrammar(prefix: str, tokens: Tokens, spec: Spec | None) -> None:
    """
    Reject what Twisted's tokenizer would crash on and, for our own
    prefixes, what it would silently drop.
    """
    if tokens.dangling is not None:
        where = tokens.dangling
        option = where if isinstance(where, str) else None
        if isinstance(where, str):
            where = named(where)
        else:
            slots = spec.positionals if spec is not None else ()
            if where == 0:
                where = "the endpoint type"
            elif where <= len(slots):
                where = option = slots[where - 1].name
            else:
                where = f"argument {where}"
        raise EndpointStringError(
            prefix,
            f"{where} ends with a lone backslash; write \\\\ for a backslash",
            option=option,
        )
    if spec is None or len(tokens.keywords) == len(tokens.kwargs):
        return
    seen: dict[str, str] = {}
    for name, value in tokens.keywords:
        if name in seen:
            raise spec.error(
                f"option {excerpt(name)} is given twice "
                f"({excerpt(seen[name])} and {excerpt(value)})",
                option=name,
                value=value,
            )
        seen[name] = value


def _lookup(description: str | bytes, direction: Direction) -> tuple[Any, Tokens]:
    """
    Find the parser for a description.

    @return: The parser (or the lower-case name of a built-in type) and the
        tokens, with the prefix still first in C{args}.
    """
    text = (
        description.decode("latin-1") if isinstance(description, bytes) else description
    )
    if not text:
        raise _bare("the endpoint string is empty")
    tokens = tokenize(text)
    if not tokens.args:
        raise _bare(
            f"{excerpt(text)} does not start with an endpoint type such as 'tcp:'"
        )
    prefix = tokens.args[0]
    key = prefix.lower()
    if key in BUILTINS[direction]:
        _checkGrammar(prefix, tokens, None)
        return key, tokens
    table = prefixTable(direction)
    parser = table.parsers.get(key)
    if parser is None:
        raise _unknownType(prefix, direction)
    if key in table.collisions:
        _warnCollision(key, direction, table)
    spec = parser.spec if isinstance(parser, ServerParser | ClientParser) else None
    _checkGrammar(prefix, tokens, spec)
    return parser, tokens


def _pluginArguments(
    tokens: Tokens, description: str | bytes
) -> tuple[list[Any], dict[str, Any]]:
    """
    The arguments a plugin gets after the reactor, as Twisted gives them.
    """
    if not isinstance(description, bytes):
        return tokens.args[1:], tokens.kwargs
    # Twisted hands a plugin bytes pieces (and native-string names) when
    # the description was bytes; latin-1 gives the original bytes back.
    args = [a.encode("latin-1") for a in tokens.args[1:]]
    kwargs = {k: v.encode("latin-1") for k, v in tokens.kwargs.items()}
    return args, kwargs


def serverFromString(reactor: Any, description: str | bytes) -> IStreamServerEndpoint:
    """
    A drop-in for Twisted's C{serverFromString} that finds plugin prefixes
    in a table instead of rescanning the plugin directories.

    It accepts every string Twisted's accepts and gives the same endpoint.
    It also raises L{EndpointStringError} for a trailing lone backslash, an
    unknown endpoint type, and (for our prefixes) a keyword given twice.

    @param reactor: The reactor for the endpoint.
    @param description: The endpoint string, such as C{"tx-tcp6:8080"}.
    @return: The endpoint.
    @raise ValueError: For a bad string; L{EndpointStringError} (a
        L{ValueError}) for every problem our own code finds.
    """
    parser, tokens = _lookup(description, "server")
    if isinstance(parser, str):
        return _builtinServer(reactor, parser, tokens, description)
    args, kwargs = _pluginArguments(tokens, description)
    return cast(
        IStreamServerEndpoint, parser.parseStreamServer(reactor, *args, **kwargs)
    )


def clientFromString(reactor: Any, description: str | bytes) -> IStreamClientEndpoint:
    """
    A drop-in for Twisted's C{clientFromString} that finds plugin prefixes
    in a table instead of rescanning the plugin directories.

    See L{serverFromString} for what it accepts and raises.

    @param reactor: The reactor for the endpoint.
    @param description: The endpoint string, such as C{"tcp:example.org:80"}.
    @return: The endpoint.
    @raise ValueError: For a bad string.
    """
    parser, tokens = _lookup(description, "client")
    if isinstance(parser, str):
        return _builtinClient(reactor, parser, tokens, description)
    args, kwargs = _pluginArguments(tokens, description)
    return cast(
        IStreamClientEndpoint, parser.parseStreamClient(reactor, *args, **kwargs)
    )


def _builtinServer(
    reactor: Any, name: str, tokens: Tokens, description: str | bytes
) -> IStreamServerEndpoint:
    """
    The second half of Twisted's C{serverFromString}, on our tokens (which
    equal its own); its own function if its private tables have moved.
    """
    try:
        parse = _untyped._serverParsers[name]
        factories = _untyped._endpointServerFactories
    except (AttributeError, KeyError):
        return cast(
            IStreamServerEndpoint,
            _untyped.serverFromString(reactor, description),
        )
    args, kwargs = parse(None, *tokens.args[1:], **tokens.kwargs)
    # Twisted's parsers put the long-gone factory second; drop it as it does.
    args = args[:1] + args[2:]
    return cast(
        IStreamServerEndpoint, factories[name.upper()](reactor, *args, **kwargs)
    )


def _builtinClient(
    reactor: Any, name: str, tokens: Tokens, description: str | bytes
) -> IStreamClientEndpoint:
    """
    The second half of Twisted's C{clientFromString}; see L{_builtinServer}.
    """
    try:
        parse = _untyped._clientParsers[name.upper()]
        factories = _untyped._endpointClientFactories
    except (AttributeError, KeyError):
        return cast(
            IStreamClientEndpoint,
            _untyped.clientFromString(reactor, description),
        )
    kwargs = parse(*tokens.args[1:], **tokens.kwargs)
    return cast(IStreamClientEndpoint, factories[name.upper()](reactor, **kwargs))
