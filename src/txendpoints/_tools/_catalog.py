"""
The endpoint types installed in this environment, for C{txendpoints list}.

Twisted's built-in types come from a table here (Twisted has no metadata
for them); plugins come from the same lookup table as our
C{serverFromString}.  Options come from our L{Spec}s, from this table, or
from the signature of the plugin's parsing method; the providing
distribution from the installed distributions' file lists.

The top layer: it may import every layer below it.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Any

from .._strings._lookup import BUILTINS, prefixTable
from .._strings._parsers import ClientParser, ServerParser
from .._strings._provenance import distributionOf, dropinModule
from .._strings._quoting import escape
from .._strings._spec import REQUIRED, Direction, Spec


@dataclass(frozen=True)
class OptionInfo:
    """
    One option of an endpoint type.

    @ivar name: Its keyword name.
    @ivar default: Its default as text, or L{None} if it has none or it is
        not known.
    @ivar required: Whether it must be given.
    @ivar positional: Whether it may be given by position.
    @ivar type: What values it takes, where known.
    @ivar doc: What it means (and, for a socket option, its platforms),
        where known.
    """

    name: str
    default: str | None
    required: bool
    positional: bool
    type: str | None = None
    doc: str | None = None

    def __str__(self) -> str:
        if self.required:
            return f"{self.name} (required)"
        if self.default is None:
            return self.name
        # As it would be typed in a string: interface=\:\: for "::".
        return f"{self.name}={escape(self.default) or repr('')}"


@dataclass(frozen=True)
class EndpointType:
    """
    An installed endpoint type in one direction.

    @ivar prefix: Its prefix, lower case.
    @ivar direction: C{"server"} or C{"client"}.
    @ivar description: One line about it.
    @ivar options: Its options, or L{None} if they cannot be known.
    @ivar distribution: The distribution that provides it, with version.
    @ivar source: C{"built-in"} or the module of its plugin dropin.
    @ivar collision: The other claimants of the same prefix, or C{()}; the
        one listed first among equal prefixes is the one in use.
    @ivar active: Whether strings with this prefix reach it.
    """

    prefix: str
    direction: Direction
    description: str
    options: tuple[OptionInfo, ...] | None
    distribution: str
    source: str
    collision: tuple[str, ...] = ()
    active: bool = True


def _o(name: str, default: str | None = None, positional: bool = False) -> OptionInfo:
    return OptionInfo(name, default, default is None and positional, positional)


def _opt(name: str, default: str | None = None) -> OptionInfo:
    return OptionInfo(name, default, False, False)


# From twisted.internet.endpoints: _parseTCP, _parseUNIX, _parseSSL and
# _parseClientTCP, _parseClientSSL, _parseClientUNIX.
_TWISTED_BUILTINS: dict[tuple[str, Direction], tuple[str, tuple[OptionInfo, ...]]] = {
    ("tcp", "server"): (
        "TCP listener on IPv4",
        (_o("port", positional=True), _opt("interface", ""), _opt("backlog", "50")),
    ),
    ("unix", "server"): (
        "UNIX-domain socket listener",
        (
            _o("address", positional=True),
            _opt("mode", "666"),
            _opt("backlog", "50"),
            _opt("lockfile", "1"),
        ),
    ),
    ("ssl", "server"): (
        "TLS listener on IPv4 with a certificate file",
        (
            _o("port", positional=True),
            _opt("privateKey", "server.pem"),
            _opt("certKey"),
            _opt("sslmethod"),
            _opt("interface", ""),
            _opt("backlog", "50"),
            _opt("extraCertChain"),
            _opt("dhParameters"),
        ),
    ),
    ("tcp", "client"): (
        "TCP connection over IPv4 (first address only)",
        (
            _o("host", positional=True),
            _o("port", positional=True),
            _opt("timeout", "30"),
            _opt("bindAddress"),
        ),
    ),
    ("ssl", "client"): (
        "TLS connection over IPv4",
        (
            _o("host", positional=True),
            _o("port", positional=True),
            _opt("timeout", "30"),
            _opt("bindAddress"),
            _opt("certKey"),
            _opt("privateKey"),
            _opt("caCertsDir"),
            _opt("hostname"),
        ),
    ),
    ("unix", "client"): (
        "UNIX-domain socket connection",
        (_o("path", positional=True), _opt("timeout", "30"), _opt("lockfile", "0")),
    ),
}

# What the built-ins' options take and do, from Twisted's endpoint-string
# documentation (twisted.internet.endpoints), by name and, where the two
# directions differ, direction.
_BUILTIN_DOCS: dict[tuple[str, Direction | None], tuple[str, str]] = {
    ("port", "server"): (
        "integer 0-65535",
        "TCP port to listen on; 0 picks a free one.",
    ),
    ("port", "client"): ("integer 0-65535", "TCP port to connect to."),
    ("interface", None): ("IPv4 address", "Address to listen on; '' is every one."),
    ("backlog", None): ("integer", "Size of the listen queue."),
    ("address", None): ("path", "Path of the UNIX socket to listen on."),
    ("path", None): ("path", "Path of the UNIX socket to connect to."),
    ("mode", None): ("octal integer", "Permissions of the socket file."),
    ("lockfile", None): ("0 or 1", "Whether to use a lock file beside the socket."),
    ("host", None): ("host name or IPv4 address", "Host to connect to."),
    ("timeout", None): ("whole seconds", "Seconds to wait for the connection."),
    ("bindAddress", None): ("host", "Local address to connect from."),
    ("privateKey", None): ("path", "PEM file of the private key."),
    ("certKey", None): ("path", "PEM file of the certificate."),
    ("sslmethod", None): ("method name", "An OpenSSL.SSL method constant's name."),
    ("extraCertChain", None): ("path", "PEM file of more chain certificates."),
    ("dhParameters", None): ("path", "File of Diffie-Hellman parameters."),
    ("caCertsDir", None): ("path", "Folder of CA certificates to trust."),
    ("hostname", None): ("host name", "Name to verify the certificate against."),
}


def _describeBuiltin(
    options: tuple[OptionInfo, ...], direction: Direction
) -> tuple[OptionInfo, ...]:
    described = []
    for option in options:
        found = _BUILTIN_DOCS.get((option.name, direction)) or _BUILTIN_DOCS.get(
            (option.name, None)
        )
        if found is not None:
            option = replace(option, type=found[0], doc=found[1])
        described.append(option)
    return tuple(described)


# Better one-liners than the docstrings of Twisted's own plugins.
_TWISTED_PLUGINS: dict[tuple[str, Direction], str] = {
    ("tcp6", "server"): "TCP listener on IPv6",
    ("stdio", "server"): "the process's standard input and output",
    ("systemd", "server"): "a listening socket inherited from systemd",
    ("tls", "server"): "TLS listener on IPv6, certificates from a directory (SNI)",
    ("haproxy", "server"): "PROXY-protocol wrapper around another server string",
    ("tls", "client"): "TLS connection through HostnameEndpoint",
}


def _options(spec: Spec) -> tuple[OptionInfo, ...]:
    return tuple(
        OptionInfo(
            option.name,
            None
            if option.required or option.default is None
            else option.kind.format(option.default),
            option.default is REQUIRED,
            option.positional,
            option.kind.description,
            option.doc,
        )
        for option in spec.options
    )


def optionLines(options: tuple[OptionInfo, ...]) -> list[str]:
    """
    One line per option, for C{txendpoints list --long}.

    @param options: The options of an endpoint type.
    @return: Lines such as C{noDelay: yes|no|true|false|1|0; default:
        unset. TCP_NODELAY: ...}.
    """
    lines = []
    for option in options:
        if option.required:
            default = "required"
        elif option.default is None:
            default = "default: unset"
        else:
            default = f"default: {option.default or repr('')}"
        head = (
            f"{option.name}: {option.type}; {default}"
            if option.type
            else (f"{option.name}: {default}")
        )
        lines.append(f"{head}. {option.doc}" if option.doc else head)
    return lines


def _signatureOptions(function: Any) -> tuple[OptionInfo, ...] | None:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    named = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in ("self", "reactor")
    ]
    if not named:
        return None
    return tuple(
        OptionInfo(
            p.name,
            None if p.default in (p.empty, None) else _text(p.default),
            p.default is p.empty,
            p.kind is p.POSITIONAL_OR_KEYWORD,
        )
        for p in named
    )


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _pluginOptions(plugin: Any, direction: Direction) -> tuple[OptionInfo, ...] | None:
    if isinstance(plugin, ServerParser | ClientParser):
        return _options(plugin.spec)
    if type(plugin).__name__ == "_TLSClientEndpointParser":
        from twisted.internet import endpoints

        return _signatureOptions(getattr(endpoints, "_parseClientTLS", None))
    if type(plugin).__name__ == "_StandardIOParser":
        return ()
    method = "parseStreamServer" if direction == "server" else "parseStreamClient"
    # Twisted's own plugins hide their real signature behind a private
    # method; third-party ones often do the same.
    names = [
        method,
        *sorted(n for n in dir(type(plugin)) if "parse" in n.lower() and n != method),
    ]
    for name in names:
        options = _signatureOptions(getattr(plugin, name, None))
        if options is not None:
            return options
    return None


def _oneLine(plugin: Any) -> str:
    if isinstance(plugin, ServerParser | ClientParser):
        return plugin.spec.summary
    doc = inspect.getdoc(type(plugin)) or ""
    first = re.split(r"\.\s|\n\n", doc.strip(), maxsplit=1)[0]
    # Drop epytext markup: L{x}, I{x}, C{x}.
    return " ".join(re.sub(r"[A-Z]\{([^}]*)\}", r"\1", first).split()).rstrip(".")


def _twistedLabel() -> str:
    return f"Twisted {metadata.version('Twisted')}"


def installedEndpointTypes(
    direction: Direction | None = None,
) -> list[EndpointType]:
    """
    Every endpoint type installed in this environment.

    @param direction: C{"server"} or C{"client"} for one direction only.
    @return: The types, built-ins first, then plugins by prefix.
    """
    found: list[EndpointType] = []
    directions: tuple[Direction, ...] = (
        ("server", "client") if direction is None else (direction,)
    )
    for which in directions:
        for name in sorted(BUILTINS[which]):
            description, options = _TWISTED_BUILTINS.get(
                (name, which), ("built into Twisted", None)
            )
            if options is not None:
                options = _describeBuiltin(options, which)
            found.append(
                EndpointType(
                    name, which, description, options, _twistedLabel(), "built-in"
                )
            )
        table = prefixTable(which)
        for key in sorted(table.parsers):
            claimants = table.collisions.get(key, [table.parsers[key]])
            labels = [distributionOf(p) for p in claimants]
            for index, plugin in enumerate(claimants):
                shadowed = key in BUILTINS[which]
                others = tuple(
                    label for i, label in enumerate(labels) if i != index
                ) + (("Twisted (built-in)",) if shadowed else ())
                description = _oneLine(plugin)
                if labels[index].startswith("Twisted "):
                    description = _TWISTED_PLUGINS.get((key, which), description)
                found.append(
                    EndpointType(
                        key,
                        which,
                        description,
                        _pluginOptions(plugin, which),
                        labels[index],
                        dropinModule(plugin) or type(plugin).__module__,
                        others,
                        index == 0 and not shadowed,
                    )
                )
    return found
