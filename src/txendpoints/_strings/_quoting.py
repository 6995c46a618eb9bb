"""
Twisted's endpoint-string quoting: writing values so its tokenizer gives them
back, spotting an IPv6 literal it cut apart at unescaped colons, and quoting
input in our messages.

It may import only L{txendpoints._net}.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Final

from .._net import addressFamily


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


# Input longer than this is quoted as an excerpt of _EXCERPT characters, so
# that a message stays short however long the string was.
_LONGEST_QUOTED: Final = 60
_EXCERPT: Final = 40


def excerpt(text: str) -> str:
    """
    Quote a piece of the input for a message: every message that shows
    input shows it through this.

    @param text: The piece, as written.
    @return: Its C{repr}; for text longer than 60 characters, the C{repr}
        of its first 40 followed by C{...} and its length, such as
        C{'aaaa'... (4194304 characters)}.
    """
    if len(text) <= _LONGEST_QUOTED:
        return repr(text)
    return f"{text[:_EXCERPT]!r}... ({len(text)} characters)"


def named(name: str) -> str:
    """
    Show an option name from the input in a message: bare, as messages
    show option names, if it is a short plain word; else through
    L{excerpt}.

    @param name: The name, as written.
    @return: The name, or its quoted excerpt.
    """
    if name.isidentifier() and len(name) <= _LONGEST_QUOTED:
        return name
    return excerpt(name)


# An IPv6 literal is at most 8 groups, with one more piece for a '::' at
# either end and another for a ']:port' after a bracketed one.
_MOST_ADDRESS_PIECES: Final = 10
# Longer than any literal: 45 characters of address (with an IPv4 tail),
# brackets, ':65535', and a zone longer than any interface name.
_LONGEST_ADDRESS: Final = 128
_BRACKETED = re.compile(r"\[(.*)\](?::[0-9]*)?", re.S)


def _isIPv6(pieces: Sequence[str]) -> bool:
    if any(":" in piece for piece in pieces):
        # A piece with a colon in it was escaped, so not cut by the tokenizer.
        return False
    if sum(map(len, pieces)) + len(pieces) > _LONGEST_ADDRESS:
        return False
    text = ":".join(pieces)
    bracketed = _BRACKETED.fullmatch(text)
    return addressFamily(bracketed.group(1) if bracketed else text) == 6


def _splitIPv6(
    hosts: AbstractSet[str],
    slots: Sequence[str],
    args: Sequence[str],
    kwargs: Mapping[str, str],
) -> tuple[str | None, str] | None:
    """
    Find an IPv6 literal that Twisted's tokenizer cut at its unescaped
    colons: C{interface=::1} arrives as C{interface=''} plus the
    positional pieces C{''} and C{'1'}.

    @return: The option the literal was meant for (L{None} if unknown)
        and the literal as written, or L{None} if there is none.
    """
    if len(args) > len(slots) + _MOST_ADDRESS_PIECES:
        # No reading of these pieces is a literal plus the positional
        # arguments; and the search below grows with the number of pieces.
        return None
    unfilled = sum(1 for name in slots if name not in kwargs)
    # Prefer a literal meant for a host option, then one that leaves a
    # piece for each slot not given by keyword (in tx-tcp6:::1:80 the
    # literal is ::1 and the port 80), then one after a keyword, then
    # the longest, then the leftmost.
    candidates: list[tuple[tuple[bool, bool, bool, int, int], str | None, list[str]]]
    candidates = []
    for start in range(len(args)):
        last = min(len(args), start + _MOST_ADDRESS_PIECES)
        for end in range(start + 1, last + 1):
            outside = len(args) - (end - start)
            run = list(args[start:end])
            for name, value in kwargs.items():
                if name in hosts:
                    key = (False, outside != unfilled, False, start - end, start)
                    candidates.append((key, name, [value, *run]))
            slot = slots[start] if start < len(slots) else None
            meant = slot if slot is not None and slot in hosts else None
            key = (
                meant is None,
                outside != unfilled - 1,
                True,
                start - end,
                start,
            )
            candidates.append((key, meant, run))
    candidates.sort(key=lambda candidate: candidate[0])
    for _, meantFor, pieces in candidates:
        if _isIPv6(pieces):
            return meantFor, ":".join(pieces)
    return None


def ipv6Hint(
    hosts: AbstractSet[str],
    slots: Sequence[str],
    args: Sequence[str],
    kwargs: Mapping[str, str],
) -> str:
    """
    Say how to write an IPv6 literal that Twisted's tokenizer cut apart.

    @param hosts: The names of the options that take an address.
    @param slots: The names of the positional options, in slot order.
    @param args: The positional pieces, as text.
    @param kwargs: The keyword pieces, as text.
    @return: A sentence to open an error message with (such as
        C{"interface looks like an IPv6 address cut at its colons; ..."}),
        or C{""} if no cut literal is found.
    """
    split = _splitIPv6(hosts, slots, args, kwargs)
    if split is None:
        return ""
    name, literal = split
    if name in kwargs:
        example = f"{name}={escape(literal)}"
    else:
        example = escape(literal, positional=True)
    return (
        f"{name or 'an argument'} looks like an IPv6 address cut at its "
        f"colons; write \\: for each ':' (for example {example})"
    )
