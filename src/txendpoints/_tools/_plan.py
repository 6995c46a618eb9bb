"""
What an endpoint would do, in one line, for C{txendpoints check}.

For our endpoints the line comes from the L{Spec} and the option values
alone, so prefixes added later get a plan without code here.  Twisted's
TCP endpoints get one from their attributes; anything else gets its type.

The top layer: it may import every layer below it.
"""

from __future__ import annotations

from typing import Any, cast

from .._client._race import clampAttemptDelay
from .._net import hostPort
from .._settings import Configured
from .._sockopts._apply import multipathWorks
from .._strings._describe import describe, settingsValues, specOf
from .._strings._quoting import escape
from .._strings._spec import Spec
from .._strings._values import DURATION, PORT, Boolean, Duration, Host

# Words for the parenthesis; a prefix not listed uses its Spec's summary.
_TRANSPORTS: dict[str, str] = {
    "tx-tcp4": "TCP, IPv4",
    "tx-tcp6": "TCP, IPv6",
    "tx-host": "TCP, IPv4 and IPv6",
}

#: Socket options in whole seconds, which are not Durations.
_WHOLE_SECONDS = frozenset({"keepIdle", "keepInterval"})

_EVERY_INTERFACE: dict[int | None, str] = {4: "0.0.0.0", 6: "::", None: "*"}


def specPlan(spec: Spec, values: dict[str, Any]) -> str:
    """
    Say what an endpoint of C{spec} with C{values} would do.

    @param spec: The endpoint's spec.
    @param values: Its option values.
    @return: A line such as C{listen on [::1]:8080 (TCP, IPv6, backlog 50)}.
    """
    verb = "listen on" if spec.direction == "server" else "connect to"
    hostOption = next((o for o in spec.options if isinstance(o.kind, Host)), None)
    portOption = next(
        (o for o in spec.options if o.name == "port" or o.kind is PORT), None
    )
    used = {o.name for o in (hostOption, portOption) if o is not None}
    details = [_TRANSPORTS.get(spec.prefix, spec.summary)]
    if portOption is not None:
        port = values[portOption.name]
        if hostOption is not None:
            host = values[hostOption.name]
            if host == "":
                host = _EVERY_INTERFACE[getattr(hostOption.kind, "family", None)]
            target = hostPort(host, port)
        else:
            target = f"port {port}"
        if port == 0 and spec.direction == "server":
            details.append("a free port chosen by the system")
    else:
        target = spec.summary
        details = []
    for option in spec.options:
        value = values.get(option.name)
        if option.name in used or value is None:
            continue
        if isinstance(option.kind, Boolean) and value == option.default:
            # "reusePort no" on every line would be noise; a switch is worth
            # mentioning only when it was thrown.
            continue
        text = option.kind.format(value)
        if isinstance(option.kind, Duration) or option.name in _WHOLE_SECONDS:
            text += "s"
        if option.name == "attemptDelay":
            text += _clamped(value)
        if option.name == "multipath" and value:
            text += (
                " (Multipath TCP)"
                if multipathWorks()
                else " (this kernel refuses Multipath TCP: plain TCP, logged once)"
            )
        details.append(f"{option.name} {text}")
    return f"{verb} {target}" + (f" ({', '.join(details)})" if details else "")


def _clamped(delay: float) -> str:
    """
    Say what an attempt delay is brought to, if it is outside RFC 8305's
    bounds, since the endpoint uses that and not what was written.

    @param delay: The attempt delay as given, in seconds.
    @return: C{", clamped to 2s (RFC 8305 sec. 5)"}, or C{""}.
    """
    used = clampAttemptDelay(delay)
    if used == delay:
        return ""
    return f", clamped to {DURATION.format(used)}s (RFC 8305 sec. 5)"


def plan(endpoint: object, direction: str) -> str:
    """
    Say what C{endpoint} would do.

    @param endpoint: Any stream endpoint.
    @param direction: C{"server"} or C{"client"}.
    @return: One line.
    """
    spec = specOf(endpoint)
    if spec is not None:
        return specPlan(spec, settingsValues(cast(Configured, endpoint)._settings))
    name = type(endpoint).__name__
    attrs = vars(endpoint) if hasattr(endpoint, "__dict__") else {}
    family = {"TCP4": "IPv4", "TCP6": "IPv6"}.get(name[:4])
    if family and "_port" in attrs:
        if direction == "server" and "_interface" in attrs:
            host = attrs["_interface"] or "0.0.0.0"
            extra = f", backlog {attrs.get('_backlog')}"
            return f"listen on {hostPort(host, attrs['_port'])} (TCP, {family}{extra})"
        if "_host" in attrs:
            host = attrs["_host"]
            host = host.decode("idna") if isinstance(host, bytes) else host
            extra = f", timeout {attrs.get('_timeout')}s"
            return f"connect to {hostPort(host, attrs['_port'])} (TCP, {family}{extra})"
    verb = "listen with" if direction == "server" else "connect with"
    return f"{verb} {type(endpoint).__module__}.{name}"


def canonical(endpoint: object, args: list[str], kwargs: dict[str, str]) -> str:
    """
    The canonical string of C{endpoint}.

    @param endpoint: The parsed endpoint.
    @param args: The positional pieces it was parsed from, prefix first.
    @param kwargs: The keyword pieces.
    @return: L{describe} for ours; for others, the pieces re-quoted with
        the prefix in lower case.
    """
    spec = specOf(endpoint)
    if spec is not None:
        return describe(endpoint)
    pieces = [args[0].lower(), *(escape(a, positional=True) for a in args[1:])]
    pieces += [f"{escape(k, positional=True)}={escape(v)}" for k, v in kwargs.items()]
    return ":".join(pieces)
