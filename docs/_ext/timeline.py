"""
C{.. happy-eyeballs-timeline::} draws a Happy Eyeballs race as an SVG: it
runs the C{tx-host} engine itself on L{txendpoints.testing}'s simulated
network and clock, so the picture always shows what the code does.

One row per address, a bar from each attempt's start to its result
(connected, refused, stopped or timed out), the DNS answers and the
resolution delay above, and a tick one attempt delay after each start.

Options (times in seconds)::

    .. happy-eyeballs-timeline::
       :answers: 2001:db8::1 2001:db8::2 192.0.2.1
       :a: 0.010
       :aaaa: 0.030
       :accept: 192.0.2.1=0.015
       :refuse: 2001:db8::1=0.001
       :options: attemptDelay=0.25

The simulation and the drawing need no Sphinx; L{setup} registers the
directive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from twisted.internet.protocol import Factory, Protocol

from txendpoints import clientFromString
from txendpoints.testing import FakeResolver, SimulatedNetwork


@dataclass
class Bar:
    """
    One attempt: its address, when it started and ended, and how.
    """

    address: str
    start: float
    end: float
    result: str


@dataclass
class Race:
    """
    What a simulated race did.
    """

    answers: dict[str, float]
    resolutionDelay: float
    attemptDelay: float
    bars: list[Bar] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    end: float = 0.0


def simulate(
    answers: Sequence[str],
    delays: Mapping[int, float],
    outcomes: Mapping[str, tuple[str, float]],
    options: str = "",
) -> Race:
    """
    Run one C{tx-host} connect on a simulated network.

    @param answers: The name's addresses, in resolver order.
    @param delays: Seconds until the answer for each family (C{4}, C{6}).
    @param outcomes: Address -> C{("accept" or "refuse", seconds)}; any
        other address is silent.
    @param options: Extra C{tx-host} options, C{name=value:...}.
    @return: What happened.
    """
    network = SimulatedNetwork(outcomes)
    network.installNameResolver(
        FakeResolver(
            network,
            {"example.org": list(answers)},
            {("example.org", family): delay for family, delay in delays.items()},
        )
    )
    string = "tx-host:example.org:443" + (":" + options if options else "")
    endpoint: Any = clientFromString(network, string)
    connecting = endpoint.connect(Factory.forProtocol(Protocol))
    connecting.addErrback(lambda reason: None)
    network.runUntil(connecting)
    end = network.seconds()
    settings = endpoint._settings
    race = Race(
        answers={
            ("AAAA" if family == 6 else "A"): delay for family, delay in delays.items()
        },
        resolutionDelay=settings.resolutionDelay,
        attemptDelay=settings.attemptDelay,
        addresses=list(answers),
        end=end,
    )
    for (start, host), connector in zip(
        network.attempts, network.connectors, strict=True
    ):
        what, delay = outcomes.get(host, ("silent", 0.0))
        if connector.stoppedConnecting:
            race.bars.append(Bar(host, start, end, "stopped"))
        elif connector.state == "connected":
            race.bars.append(Bar(host, start, start + delay, "connected"))
        elif what == "refuse":
            race.bars.append(Bar(host, start, start + delay, "refused"))
        else:
            race.bars.append(Bar(host, start, end, "timed out"))
    return race


_COLOURS = {
    "connected": "#2e7d32",
    "refused": "#c62828",
    "stopped": "#9e9e9e",
    "timed out": "#ef6c00",
}


def render(race: Race, width: int = 640) -> str:
    """
    Draw C{race} as an SVG document.

    @param race: What L{simulate} returned.
    @param width: The picture's width in pixels.
    @return: The SVG text, the same for the same race.
    """
    left, right, rowHeight, top = 110, 100, 26, 66
    span = max(
        [race.end, *(b.end for b in race.bars), *race.answers.values()], default=1.0
    )
    span = span * 1.08 or 1.0
    scale = (width - left - right) / span
    height = top + rowHeight * len(race.addresses) + 52

    def x(t: float) -> float:
        return round(left + t * scale, 1)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
        'role="img" aria-label="Happy Eyeballs timeline">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    # The DNS answers, and the resolution delay after the first of them
    # when it is the non-preferred (A) answer.
    first = min(race.answers, key=lambda k: race.answers[k])
    for n, (label, when) in enumerate(
        sorted(race.answers.items(), key=lambda kv: kv[1])
    ):
        # One line of text each, so that close answers do not overlap.
        y = 12 + 14 * n
        out.append(
            f'<line x1="{x(when)}" y1="{y + 2}" x2="{x(when)}" '
            f'y2="{height - 38}" stroke="#1565c0" stroke-dasharray="2,3"/>'
        )
        out.append(
            f'<text x="{x(when) + 3}" y="{y}" fill="#1565c0">{label} answer '
            f"({when * 1000:.0f} ms)</text>"
        )
    if first == "A" and race.resolutionDelay > 0:
        start = race.answers["A"]
        stop = min(start + race.resolutionDelay, race.answers.get("AAAA", span))
        out.append(
            f'<rect x="{x(start)}" y="36" width="{round((stop - start) * scale, 1)}" '
            f'height="10" fill="#90caf9"/>'
        )
        out.append(
            f'<text x="{x(stop) + 4}" y="45" fill="#1565c0">waiting for AAAA '
            f"(resolutionDelay {race.resolutionDelay * 1000:.0f} ms)</text>"
        )
    ticks = False
    rows = {address: i for i, address in enumerate(race.addresses)}
    for address, i in rows.items():
        y = top + i * rowHeight
        out.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(address)}</text>"
        )
        out.append(
            f'<line x1="{left}" y1="{y + 11}" x2="{width - right}" y2="{y + 11}" '
            'stroke="#eeeeee"/>'
        )
    tried = {bar.address for bar in race.bars}
    for address in race.addresses:
        if address not in tried:
            y = top + rows[address] * rowHeight
            out.append(
                f'<text x="{left + 4}" y="{y + 15}" fill="#9e9e9e">not tried</text>'
            )
    for n, bar in enumerate(race.bars, 1):
        y = top + rows[bar.address] * rowHeight
        barWidth = max(round((bar.end - bar.start) * scale, 1), 2.0)
        out.append(
            f'<rect x="{x(bar.start)}" y="{y + 4}" width="{barWidth}" height="14" '
            f'fill="{_COLOURS[bar.result]}"><title>attempt {n}: {escape(bar.address)} '
            f"{bar.result} after {(bar.end - bar.start) * 1000:.0f} ms</title></rect>"
        )
        out.append(
            f'<text x="{x(bar.start) + barWidth + 4}" y="{y + 15}" '
            f'fill="{_COLOURS[bar.result]}">{n}: {bar.result}</text>'
        )
        if 0 < race.attemptDelay and bar.start + race.attemptDelay <= span:
            # Where the next attempt starts if this one stays silent.
            ticks = True
            tick = x(bar.start + race.attemptDelay)
            out.append(
                f'<line x1="{tick}" y1="{y + 1}" x2="{tick}" y2="{y + 21}" '
                'stroke="#616161" stroke-width="1.5"/>'
            )
    # The time axis, in milliseconds.
    axis = height - 36
    out.append(
        f'<line x1="{left}" y1="{axis}" x2="{width - right}" y2="{axis}" '
        'stroke="black"/>'
    )
    step = _step(span)
    t = 0.0
    while t <= span:
        out.append(
            f'<line x1="{x(t)}" y1="{axis}" x2="{x(t)}" y2="{axis + 4}" '
            'stroke="black"/>'
        )
        out.append(
            f'<text x="{x(t)}" y="{axis + 16}" text-anchor="middle">'
            f"{t * 1000:.0f} ms</text>"
        )
        t = round(t + step, 6)
    legend = "bar: an attempt, from its start to its result"
    if ticks:
        legend += f"; tick: {race.attemptDelay * 1000:.0f} ms (attemptDelay) after it"
    out.append(f'<text x="{left}" y="{height - 4}" fill="#616161">{legend}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _step(span: float) -> float:
    for step in (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0):
        if span / step <= 8:
            return step
    return 10.0


def parseOptions(options: Mapping[str, str]) -> dict[str, Any]:
    """
    The arguments of L{simulate} from the directive's options.
    """
    outcomes: dict[str, tuple[str, float]] = {}
    for what in ("accept", "refuse"):
        for item in options.get(what, "").split():
            address, _, delay = item.rpartition("=")
            outcomes[address] = (what, float(delay))
    delays = {
        family: float(options[name])
        for family, name in ((4, "a"), (6, "aaaa"))
        if name in options
    }
    return {
        "answers": options["answers"].split(),
        "delays": delays,
        "outcomes": outcomes,
        "options": options.get("options", ""),
    }


def setup(app: Any) -> dict[str, Any]:
    """
    Register C{.. happy-eyeballs-timeline::}.
    """
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.util.docutils import SphinxDirective

    class TimelineDirective(SphinxDirective):
        option_spec = {
            name: directives.unchanged
            for name in ("answers", "a", "aaaa", "accept", "refuse", "options")
        }

        def run(self) -> list[nodes.Node]:
            import txendpoints

            if txendpoints.__file__:
                self.env.note_dependency(txendpoints.__file__)
            svg = render(simulate(**parseOptions(self.options)))
            return [nodes.raw("", svg, format="html")]

    app.add_directive("happy-eyeballs-timeline", TimelineDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
