"""
Connections accepted per second on loopback: our tx-tcp4/tx-tcp6 listeners
against Twisted's tcp:/tcp6:, in the same run, interleaved round by round.

Each trial listens on a fresh port, opens CONCURRENCY client connections at a
time until CONNECTIONS have been accepted; the server closes each connection
as soon as it is accepted.  The client load is identical for every listener,
so the ratio compares the accept paths.  Target: ours/Twisted's >= 0.95.

    python benchmarks/accept_rate.py [--connections N] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import serverFromString
from twisted.internet.protocol import ClientFactory, Factory, Protocol

reactor: Any = _reactor

#: (label, ours, Twisted's, client host)
PAIRS = [
    ("IPv4", "tx-tcp4:0:interface=127.0.0.1", "tcp:0:interface=127.0.0.1", "127.0.0.1"),
    ("IPv6", r"tx-tcp6:0:interface=\:\:1", r"tcp6:0:interface=\:\:1", "::1"),
    (
        "IPv4 reusePort (adopted socket)",
        "tx-tcp4:0:interface=127.0.0.1:reusePort=yes",
        "tcp:0:interface=127.0.0.1",
        "127.0.0.1",
    ),
]
CONCURRENCY = 32


class CloseAtOnce(Protocol):
    def connectionMade(self) -> None:
        self.factory.accepted()  # type: ignore[attr-defined]
        self.transport.loseConnection()  # type: ignore[union-attr]


class Counting(Factory):
    protocol = CloseAtOnce

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.count = 0
        self.done: Deferred[None] = Deferred()

    def accepted(self) -> None:
        self.count += 1
        if self.count == self.wanted:
            self.done.callback(None)


class Dialer(ClientFactory):
    """
    Keeps CONCURRENCY connections in flight until told to stop.
    """

    protocol = Protocol

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.stopped = False

    def dial(self) -> None:
        if not self.stopped:
            reactor.connectTCP(self.host, self.port, self)

    def clientConnectionLost(self, connector: Any, reason: Any) -> None:
        self.dial()

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.dial()


@inlineCallbacks
def trial(description: str, host: str, connections: int) -> Any:
    factory = Counting(connections)
    port = yield serverFromString(reactor, description).listen(factory)
    dialer = Dialer(host, port.getHost().port)
    start = time.perf_counter()
    for _ in range(CONCURRENCY):
        dialer.dial()
    yield factory.done
    elapsed = time.perf_counter() - start
    dialer.stopped = True
    yield port.stopListening()
    return connections / elapsed


@inlineCallbacks
def main(connections: int, rounds: int) -> Any:
    worst = None
    for label, ours, theirs, host in PAIRS:
        oursRates, theirsRates = [], []
        for number in range(rounds):
            order = [(ours, oursRates), (theirs, theirsRates)]
            if number % 2:
                # Alternate the order so that neither side always runs warm.
                order.reverse()
            for description, rates in order:
                rates.append((yield trial(description, host, connections)))
        mine = statistics.median(oursRates)
        peer = statistics.median(theirsRates)
        ratio = mine / peer
        worst = ratio if worst is None else min(worst, ratio)
        print(
            f"{label:32} ours {mine:8.0f} conn/s   Twisted {peer:8.0f} conn/s   "
            f"ratio {ratio:.3f}"
        )
    print(f"worst ratio {worst:.3f} (target >= 0.95)")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    failures: list[Any] = []

    def done(result: Any) -> None:
        if hasattr(result, "printTraceback"):
            failures.append(result)
            result.printTraceback()
        reactor.stop()

    reactor.callWhenRunning(lambda: main(args.connections, args.rounds).addBoth(done))
    reactor.run()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    run()
