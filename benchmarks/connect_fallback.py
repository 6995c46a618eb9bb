"""
Time to connect when the first addresses are dead, on a simulated clock.

Every client runs against the same scripted network
(L{txendpoints.testing.SimulatedNetwork}): a live address accepts after one
round trip (RTT), a refusing one refuses after one RTT, a silent one never
answers (only the 30 s connector timeout ends it).  The times printed are
simulated seconds from C{connect()} to connection, so they measure the
algorithms, not this machine.

Compared, with the same 0.25 s attempt delay everywhere:

  - ours: C{TCP6ClientEndpoint} / C{HostClientEndpoint}
  - Twisted's C{HostnameEndpoint} and C{TCP6ClientEndpoint}
  - C{aiohappyeyeballs} (if installed: C{pip install txendpoints[bench]}),
    on an asyncio loop with virtual time, after a full resolution as its
    callers (aiohttp) do.

Run: C{python benchmarks/connect_fallback.py}.  Exits non-zero if ours is
slower than a peer in any scenario, or misses the issue's targets.
"""

from __future__ import annotations

import asyncio
import selectors
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.endpoints import TCP6ClientEndpoint as TwistedTCP6
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure

from txendpoints import HostClientEndpoint, TCP6ClientEndpoint
from txendpoints.testing import FakeResolver, SimulatedNetwork

RTT = 0.01
DELAY = 0.25
NAME = "h.example"
V6 = [f"2001:db8::{i}" for i in range(1, 6)]
V4 = [f"192.0.2.{i}" for i in range(1, 6)]


@dataclass
class Scenario:
    """
    One network: what the name resolves to, when, and how each address
    behaves.
    """

    name: str
    answers: list[str]
    outcomes: dict[str, Any]
    delays: dict[Any, float] = field(default_factory=dict)
    target: float | None = None


Result = float | str


def _failed(when: float, error: type) -> str:
    """
    A failure, as "fails at <seconds>: <error type>".
    """
    return f"fails {round(when, 6):g}: {error.__name__.removesuffix('Error')}"


def _failedAt(result: Result) -> float | None:
    if isinstance(result, str) and result.startswith("fails "):
        return float(result.split()[1].rstrip(":"))
    return None


def _twisted(scenario: Scenario, build: Callable[[Any], Any]) -> Result:
    network = SimulatedNetwork(scenario.outcomes)
    network.installNameResolver(
        FakeResolver(network, {NAME: scenario.answers}, scenario.delays)
    )
    d = build(network).connect(Factory.forProtocol(Protocol))
    network.runUntil(d, limit=120)
    results: list[Any] = []
    d.addBoth(results.append)
    if not results:
        d.cancel()
        return "never"
    if isinstance(results[0], Failure):
        return _failed(network.seconds(), results[0].type)
    return round(network.seconds(), 6)


def ours6(scenario: Scenario) -> Result:
    return _twisted(
        scenario, lambda r: TCP6ClientEndpoint(r, NAME, 80, attemptDelay=DELAY)
    )


def oursHost(scenario: Scenario) -> Result:
    return _twisted(
        scenario, lambda r: HostClientEndpoint(r, NAME, 80, attemptDelay=DELAY)
    )


def twistedHostname(scenario: Scenario) -> Result:
    return _twisted(
        scenario, lambda r: HostnameEndpoint(r, NAME, 80, attemptDelay=DELAY)
    )


def twistedTCP6(scenario: Scenario) -> Result:
    def build(reactor: Any) -> Any:
        endpoint = TwistedTCP6(reactor, NAME, 80)
        # Its resolution runs getaddrinfo in a thread; answer from the
        # same table instead, at once (which only flatters it).
        endpoint._deferToThread = lambda f, *a, **k: defer.maybeDeferred(f, *a, **k)
        endpoint._getaddrinfo = lambda host, port, family: [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            for a in scenario.answers
            if ":" in a
        ]
        return endpoint

    return _twisted(scenario, build)


class _VirtualLoop(asyncio.SelectorEventLoop):
    """
    An asyncio loop whose clock jumps to the next timer instead of waiting.
    """

    def __init__(self) -> None:
        self.now = 0.0
        loop = self

        class Selector(selectors.SelectSelector):
            def select(self, timeout: float | None = None) -> Any:
                ready = super().select(0)
                if not ready and timeout:
                    loop.now += timeout
                return ready

        super().__init__(Selector())

    def time(self) -> float:
        return self.now


def aioHappyEyeballs(scenario: Scenario) -> Result:
    try:
        from aiohappyeyeballs import start_connection
    except ImportError:
        return "n/a"
    loop = _VirtualLoop()

    async def sockConnect(sock: socket.socket, address: Any) -> None:
        outcome = scenario.outcomes.get(address[0])
        if outcome is None:
            await loop.create_future()
        what, rtt = outcome
        await asyncio.sleep(rtt)
        if what == "refuse":
            raise ConnectionRefusedError(111, "Connection refused")

    loop.sock_connect = sockConnect  # type: ignore[method-assign,assignment]

    async def connect() -> socket.socket:
        # Its callers resolve both families fully before connecting.
        await asyncio.sleep(max(scenario.delays.values(), default=0))
        infos = [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, 80, 0, 0) if ":" in a else (a, 80),
            )
            for a in scenario.answers
        ]
        return await start_connection(infos, happy_eyeballs_delay=DELAY, interleave=1)

    try:
        sock = loop.run_until_complete(asyncio.wait_for(connect(), 30))
    except (TimeoutError, OSError) as e:
        return _failed(loop.now, type(e))
    finally:
        loop.close()
    sock.close()
    return round(loop.now, 6)


def singleFamily() -> list[Scenario]:
    scenarios = []
    for k in range(5):
        live = {V6[k]: ("accept", RTT)}
        scenarios.append(
            Scenario(f"IPv6, {k} silent first", V6, live, target=k * DELAY + RTT)
        )
        refusing = {a: ("refuse", RTT) for a in V6[:k]} | live
        scenarios.append(
            Scenario(f"IPv6, {k} refusing first", V6, refusing, target=(k + 1) * RTT)
        )
    return scenarios


def bothFamilies() -> list[Scenario]:
    live4 = {V4[0]: ("accept", RTT)}
    both = V6[:2] + V4[:2]
    return [
        Scenario("dead IPv6 (silent)", both, live4, target=DELAY + RTT),
        Scenario(
            "IPv6 refuses",
            both,
            {a: ("refuse", RTT) for a in V6[:2]} | live4,
            target=RTT + RTT,
        ),
        Scenario(
            "slow AAAA (1 s)",
            both,
            live4 | {V6[0]: ("accept", RTT)},
            {(NAME, 6): 1.0},
            target=0.05 + RTT,
        ),
        Scenario(
            "AAAA 20 ms after A",
            both,
            live4 | {V6[0]: ("accept", RTT)},
            {(NAME, 6): 0.02},
            target=0.02 + RTT,
        ),
        Scenario("all refuse", both, {a: ("refuse", RTT) for a in both}, target=None),
        Scenario("all silent", both, {}, target=None),
    ]


def table(
    title: str, scenarios: list[Scenario], clients: dict[str, Callable[..., Result]]
) -> bool:
    names = list(clients)
    print(f"\n{title} (simulated seconds to connect; RTT {RTT}, delay {DELAY})")
    print(f"{'scenario':26}" + "".join(f" {n:>30}" for n in names))
    ok = True
    totals = {n: [0.0, 0.0] for n in names[1:]}
    for scenario in scenarios:
        results = {n: clients[n](scenario) for n in names}
        for n in names[1:]:
            if isinstance(results[n], float) and isinstance(results[names[0]], float):
                totals[n][0] += results[names[0]]  # type: ignore[operator]
                totals[n][1] += results[n]  # type: ignore[operator]
        print(f"{scenario.name:26}" + "".join(f" {results[n]!s:>30}" for n in names))
        ours = results[names[0]]
        if scenario.target is not None and ours != round(scenario.target, 6):
            print(f"  MISSED target {scenario.target:g} s")
            ok = False
        for n in names[1:]:
            theirs = results[n]
            if isinstance(ours, float) and isinstance(theirs, float) and theirs < ours:
                print(f"  SLOWER than {n}")
                ok = False
            if isinstance(theirs, float) and not isinstance(ours, float):
                print(f"  {n} connects, ours does not")
                ok = False
            oursFailed, theirsFailed = _failedAt(ours), _failedAt(theirs)
            if oursFailed and theirsFailed and theirsFailed < oursFailed:
                print(f"  fails later than {n}")
                ok = False
    for n, (oursTotal, theirsTotal) in totals.items():
        if oursTotal:
            print(
                f"{n}: {theirsTotal / oursTotal:.2f}x our total time over the "
                "scenarios where both connect"
            )
    return ok


def main() -> int:
    ok = table(
        "tx-tcp6 client: first k of 5 IPv6 addresses dead",
        singleFamily(),
        {
            "tx-tcp6": ours6,
            "HostnameEndpoint": twistedHostname,
            "Twisted TCP6Client": twistedTCP6,
            "aiohappyeyeballs": aioHappyEyeballs,
        },
    )
    ok = (
        table(
            "tx-host client: 2 AAAA + 2 A records",
            bothFamilies(),
            {
                "tx-host": oursHost,
                "HostnameEndpoint": twistedHostname,
                "aiohappyeyeballs": aioHappyEyeballs,
            },
        )
        and ok
    )
    print("\nall targets met" if ok else "\nTARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
