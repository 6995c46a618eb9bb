"""
Parsing a string meant for one direction, with a hint when it was written
for the other: a client string given where a server string belongs
(C{tx-tcp4:127.0.0.1:8080} to listen on) gets the C{interface=} form to
write instead.

It may import the rest of L{txendpoints._strings} and everything below it.
"""

from __future__ import annotations

from typing import Any

from .._errors import EndpointStringError
from ._lookup import clientFromString, serverFromString, tokenize
from ._quoting import escape, excerpt
from ._spec import Direction


def _hostAndPort(endpoint: object) -> tuple[str, int] | None:
    """
    Where a client endpoint connects, if it is a host and a port: ours, or
    Twisted's TCP and host-name endpoints.
    """
    settings = getattr(endpoint, "_settings", None)
    pairs = [
        (getattr(settings, "host", None), getattr(settings, "port", None)),
        (getattr(endpoint, "_host", None), getattr(endpoint, "_port", None)),
        (getattr(endpoint, "_hostText", None), getattr(endpoint, "_port", None)),
    ]
    for host, port in pairs:
        if isinstance(host, bytes):
            host = host.decode("idna")
        if isinstance(host, str) and isinstance(port, int):
            return host, port
    return None


def otherDirectionHint(reactor: Any, text: str, direction: Direction) -> str:
    """
    Say so if a string that is bad in one direction is good in the other.

    @param reactor: The reactor to parse with (nothing is started).
    @param text: The endpoint string.
    @param direction: The direction it failed in.
    @return: A sentence such as C{"it is a client string (to connect to
        127.0.0.1 port 8080); to listen there, write
        tx-tcp4:8080:interface=127.0.0.1"}, or C{""} if it is no good
        either way.
    """
    other = clientFromString if direction == "server" else serverFromString
    try:
        endpoint = other(reactor, text)
    except Exception:
        return ""
    if direction == "client":
        return "it is a server string (one to listen on)"
    where = _hostAndPort(endpoint)
    if where is None:
        return "it is a client string (one to connect to)"
    host, port = where
    prefix = str(tokenize(text).args[0]).lower()
    example = f"{prefix}:{port}:interface={escape(host)}"
    return (
        f"it is a client string (to connect to {host} port {port}); to listen "
        f"there, write {example} (a server string takes the address as "
        "interface=)"
    )


def parseFor(
    reactor: Any, text: str, direction: Direction, advice: str = "", label: str = ""
) -> Any:
    """
    Parse an endpoint string as our L{serverFromString} or
    L{clientFromString} does, with a hint if it was written for the other
    direction.

    @param reactor: The reactor for the endpoint.
    @param text: The endpoint string.
    @param direction: C{"server"} or C{"client"}.
    @param advice: Said after the hint, if there is one (such as
        C{"use --client"}).
    @param label: What the message starts with, to say which of several
        strings was bad (C{"LISTEN"} makes it C{"LISTEN: tx-tcp4: ..."}).
    @return: The endpoint.
    @raise EndpointStringError: For a bad string with one of our prefixes,
        or a bad prefix: the error, its message followed by the hint.
    @raise ValueError: If another parser rejected it, in any way: a
        message that quotes the string, the error and the hint.
    """
    parse = serverFromString if direction == "server" else clientFromString
    try:
        return parse(reactor, text)
    except EndpointStringError as e:
        message = str(e)
        error: ValueError = e
    except Exception as e:
        # A Twisted or third-party parser failing its own way (Twisted
        # reports a missing argument as TypeError, a bad one as a bare
        # int() message): still a bad string, said with the string.
        message = f"{excerpt(text)} was rejected by its parser: {type(e).__name__}: {e}"
        error = ValueError(message)
        error.__cause__ = e
    hint = otherDirectionHint(reactor, text, direction)
    if hint:
        message += f"; {hint}" + (f"; {advice}" if advice else "")
    error.args = (f"{label}: {message}" if label else message,)
    raise error
