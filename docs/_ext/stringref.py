"""
Render the endpoint-string reference from the option specs.

Pure functions over L{txendpoints._strings._specs.SPECS}: no Sphinx import, so
C{tests/test_docs.py} can check the same text the documentation shows.
Whatever specs exist when the docs are built are documented; nothing here
names a prefix or an option.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import txendpoints
from txendpoints._strings._describe import specOfClass
from txendpoints._strings._spec import REQUIRED, Option, Spec

# Twisted's own order of importance; prefixes not listed follow, sorted.
_PREFIX_ORDER = ("tx-tcp4", "tx-tcp6", "tx-host", "tx-stdio")
_DIRECTION_ORDER = ("server", "client")


def orderedSpecs(specs: Iterable[Spec]) -> list[Spec]:
    """
    Sort specs the way the reference presents them.

    @param specs: Any specs.
    @return: The known prefixes first in a fixed order, then the others by
        name; servers before clients.
    """

    def key(spec: Spec) -> tuple[int, str, int]:
        rank = (
            _PREFIX_ORDER.index(spec.prefix)
            if spec.prefix in _PREFIX_ORDER
            else len(_PREFIX_ORDER)
        )
        return (rank, spec.prefix, _DIRECTION_ORDER.index(spec.direction))

    return sorted(specs, key=key)


def _literal(text: str) -> str:
    """
    Inline-literal markup for C{text}, safe for any content.
    """
    if not text:
        return '``""`` (empty)'
    # ``...`` cannot hold a backtick run or start/end with a space.
    if "``" in text or text != text.strip():
        return ":code:`" + text.replace("\\", "\\\\").replace("`", "\\`") + "`"
    return f"``{text}``"


def _escapeText(text: str) -> str:
    """
    Quote reST inline markup characters in plain prose from a spec.
    """
    for char in ("\\", "*", "`", "|", "_"):
        text = text.replace(char, "\\" + char)
    return text


def defaultText(option: Option[Any]) -> str:
    """
    The default of C{option} as the reference shows it.

    @param option: An option.
    @return: C{"required"}, C{"not set"} for a default of L{None}, or the
        default written as it would appear in a string.
    """
    if option.default is REQUIRED:
        return "required"
    if option.default is None:
        return "not set"
    return _literal(option.kind.format(option.default))


def synopsis(spec: Spec) -> str:
    """
    The shape of a string for C{spec}, such as
    C{tx-tcp6:PORT[:option=value...]}.

    @param spec: A spec.
    @return: The prefix, each positional slot in upper case (in brackets if
        optional), then a marker for keyword options.
    """
    pieces = [spec.prefix]
    closing = ""
    for option in spec.positionals:
        if option.required:
            pieces.append(":" + option.name.upper())
        else:
            pieces.append("[:" + option.name.upper())
            closing += "]"
    keywords = [o for o in spec.options if not o.positional]
    text = "".join(pieces) + closing
    if keywords:
        text += "[:option=value...]"
    return text


def _endpointClasses() -> dict[tuple[str, str], str]:
    """
    Which public class builds each prefix and direction: every class in
    C{txendpoints.__all__} whose settings have a spec.
    """
    found: dict[tuple[str, str], str] = {}
    for name in txendpoints.__all__:
        spec = specOfClass(getattr(txendpoints, name))
        if spec is not None:
            found.setdefault((spec.prefix, spec.direction), name)
    return found


def _table(spec: Spec) -> list[str]:
    slots = {o.name: n for n, o in enumerate(spec.positionals, start=1)}
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 14 8 22 12 44",
        "",
        "   * - option",
        "     - position",
        "     - value",
        "     - default",
        "     - meaning",
    ]
    for option in spec.options:
        lines += [
            f"   * - {_literal(option.name)}",
            f"     - {slots.get(option.name, '—')}",
            f"     - {_escapeText(option.kind.description)}",
            f"     - {defaultText(option)}",
            f"     - {_escapeText(option.doc)}",
        ]
    return lines


def renderSpec(spec: Spec, className: str | None = None) -> list[str]:
    """
    The reference section for one prefix and direction.

    @param spec: The spec.
    @param className: The public class the string builds, if known.
    @return: reST lines: a titled section with the synopsis and a table of
        every option.
    """
    title = f"{spec.prefix} ({spec.direction})"
    lines = [
        f".. _{spec.prefix}-{spec.direction}:",
        "",
        title,
        "~" * len(title),
        "",
        _escapeText(spec.summary.rstrip(".")) + ".",
        "",
        f"Synopsis: {_literal(synopsis(spec))}",
        "",
    ]
    if className is not None:
        lines += [
            f"Builds :py:class:`txendpoints.{className}`.",
            "",
        ]
    lines += [*_table(spec), ""]
    return lines


def renderReference(
    specs: Mapping[tuple[str, str], Spec],
    classes: Mapping[tuple[str, str], str] | None = None,
) -> str:
    """
    The whole generated reference: one section per prefix, one subsection
    per direction.

    @param specs: The specs to document, such as
        L{txendpoints._strings._specs.SPECS}.
    @param classes: The public class per C{(prefix, direction)}; by default
        found from the registered parsers.
    @return: reST text to be inserted into a page whose own sections use
        C{=} and C{-} underlines.
    """
    if classes is None:
        classes = _endpointClasses()
    lines: list[str] = []
    currentPrefix = None
    for spec in orderedSpecs(specs.values()):
        if spec.prefix != currentPrefix:
            currentPrefix = spec.prefix
            lines += [spec.prefix, "-" * len(spec.prefix), ""]
        lines += renderSpec(spec, classes.get((spec.prefix, spec.direction)))
    return "\n".join(lines) + "\n"
