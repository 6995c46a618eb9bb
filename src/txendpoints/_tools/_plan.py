"""
What an endpoint would do, in one line, for C{txendpoints check}.

For our endpoints the line comes from the L{Spec} and the option values
alone, so prefixes added later get a plan without code here.  Twisted's
TCP endpoints get one from their attributes; anything else gets its type.

The top layer: it may import every layer below it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, cast

from twisted.internet.address import IPv6Address
from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.internet.error import DNSLookupError

from .._client._endpoints import _ClientEndpoint
from .._client._happy import HappyEyeballs
from .._client._host import HostClientEndpoint
from .._client._race import clampAttemptDelay
from .._client._sorting import RULES, explainOrder
from .._net import ADDRESS_CLASSES, IPAddress, addressFamily, formatAddress, hostPort
from .._resolver import resolve
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


def _raceable(endpoint: object) -> bool:
    return isinstance(endpoint, _ClientEndpoint)


def resolvedPlan(reactor: Any, endpoint: Any) -> Deferred[list[str]]:
    """
    Resolve C{endpoint}'s host for real and say in what order its race
    would try the addresses, for C{txendpoints check --client --resolve}.

    @param reactor: The reactor to resolve with; its C{nameResolver} is
        asked as C{connect} would ask it.
    @param endpoint: One of our TCP client endpoints.
    @return: A L{Deferred} firing with the lines to print: one per
        address, with when its attempt would start if no attempt ever
        answered (k x C{attemptDelay}), its family, and what placed it.
    @raise ValueError: If C{endpoint} is not one of our TCP clients.
    """
    if not _raceable(endpoint):
        raise ValueError(
            "--resolve works with tx-tcp4, tx-tcp6 and tx-host client strings"
        )
    settings = endpoint._settings
    families: tuple[int, ...] = endpoint._families
    host, port = settings.host, settings.port
    happy = None
    if isinstance(endpoint, HostClientEndpoint):
        happy = HappyEyeballs(
            reactor, families, settings.preferIPv6, settings.familyCount
        )
    version = addressFamily(host)
    if version is not None:
        found: Deferred[list[IPAddress]] = succeed(
            [ADDRESS_CLASSES[version]("TCP", host, port)]
        )
    else:
        found = gatherResults(
            [resolve(reactor, host, port, (f,)) for f in families], consumeErrors=True
        ).addCallback(lambda answers: [a for answer in answers for a in answer])

    def synthesize(addresses: list[IPAddress]) -> Any:
        more = happy.nat64(addresses) if happy is not None else None
        if more is None:
            return (addresses, [])
        return more.addCallback(lambda extra: (addresses + extra, extra))

    def describeOrder(result: tuple[list[IPAddress], list[IPAddress]]) -> list[str]:
        addresses, synthesized = result
        if not addresses:
            raise DNSLookupError(f"{host} has no address")
        return _orderLines(endpoint, happy, addresses, synthesized)

    return found.addCallback(synthesize).addCallback(describeOrder)


def _orderLines(
    endpoint: Any,
    happy: HappyEyeballs | None,
    addresses: list[IPAddress],
    synthesized: list[IPAddress],
) -> list[str]:
    settings = endpoint._settings
    delay = clampAttemptDelay(settings.attemptDelay)
    if happy is None:
        ordered = list(addresses)
        why = {a: "resolver order" for a in ordered}
    else:
        sources = happy.sources
        explained = explainOrder(addresses, sources, settings.preferIPv6)
        ordered = happy.order()([], addresses)
        why = {}
        for i, (address, rule) in enumerate(explained):
            text = (
                "first by RFC 6724"
                if rule is None
                else f"RFC 6724 rule {rule} ({RULES[rule]})"
            )
            if ordered.index(address) != i:
                text += f"; moved by interleaving (familyCount {settings.familyCount})"
            why[address] = text
    width = max(len(formatAddress(a)) for a in ordered)
    lines = []
    for k, address in enumerate(ordered):
        # With attemptDelay=0 each attempt waits for the one before to fail.
        start = f"+{k * delay:.2f}s" if delay or not k else f"after {k}"
        family = "IPv6" if isinstance(address, IPv6Address) else "IPv4"
        note = why[address] + ("; NAT64" if address in synthesized else "")
        target = formatAddress(address)
        lines.append(f"{k + 1:>3}  {start:>7}  {target:<{width}}  {family}  {note}")
    return lines


def printResolvedPlan(reactor: Any, endpoint: Any) -> int:
    """
    Print the order in which C{endpoint} would try its addresses, running
    C{reactor} until the name is resolved (or the endpoint's timeout).

    @return: 0, 1 if the name did not resolve, 2 if C{endpoint} is not one
        of our TCP clients.
    """
    try:
        planned = resolvedPlan(reactor, endpoint)
    except ValueError as e:
        print(f"txendpoints check: {e}", file=sys.stderr)
        return 2
    timeout = endpoint._settings.timeout
    if timeout is not None:
        planned.addTimeout(timeout, reactor)
    outcome: list[object] = []

    def done(result: object) -> None:
        outcome.append(result)
        if reactor.running:
            reactor.stop()

    planned.addBoth(done)
    if not outcome:
        reactor.run()
    result = outcome[0]
    if isinstance(result, list):
        print("attempts if none answers:")
        for line in result:
            print(line)
        return 0
    print(f"txendpoints check: {getattr(result, 'value', result)}", file=sys.stderr)
    return 1


def check(args: argparse.Namespace) -> int:
    """
    Parse one endpoint string and say what it would do.

    @param args: The parsed command line.
    @return: 0 if the string is good, 2 if not.
    """
    from twisted.internet import reactor

    from .._strings._hints import parseFor
    from .._strings._lookup import tokenize
    from .._strings._spec import Direction

    if args.resolve and not args.client:
        print("txendpoints check: --resolve needs --client", file=sys.stderr)
        return 2
    direction: Direction = "client" if args.client else "server"
    try:
        endpoint = parseFor(
            reactor,
            args.string,
            direction,
            advice=(
                "or leave out --client to check it as one"
                if args.client
                else "or add --client to check it as one"
            ),
        )
    except ValueError as e:
        # Ours, or a Twisted or third-party parser failing its own way:
        # still a bad string, not a crash of ours.
        print(f"txendpoints check: {e}", file=sys.stderr)
        return 2
    tokens = tokenize(args.string)
    print(canonical(endpoint, tokens.args, tokens.kwargs))
    print(plan(endpoint, direction))
    if args.resolve:
        return printResolvedPlan(reactor, endpoint)
    return 0
