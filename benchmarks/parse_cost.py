"""
Cost of turning an endpoint string into an endpoint: ours against Twisted's.

Twisted's C{serverFromString} rescans the plugin directories for every
plugin prefix (C{tx-tcp6:}, C{tcp6:}); ours looks the prefix up in a table
built once.  Built-in prefixes (C{tcp:}) go through Twisted's own code in
both, after our faster tokenizer.  Both run in the same process, on the
same strings, interleaved; the ratio is Twisted's time over ours.

    python benchmarks/parse_cost.py [--repeat N]

Target: >= 30x on plugin prefixes, >= 1x (never slower) on built-ins.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from typing import Any

from twisted.internet import endpoints
from twisted.internet.testing import MemoryReactor

import txendpoints

CASES: list[tuple[str, str, bool]] = [
    # (direction, string, is a plugin prefix)
    ("server", "tx-tcp6:8080:interface=\\:\\:1", True),
    ("server", "tx-tcp4:8080:backlog=100", True),
    ("server", "tcp6:8080:interface=\\:\\:1", True),
    ("server", "tcp:8080:interface=127.0.0.1", False),
    ("server", "tcp:80", False),
    ("client", "tcp:example.org:80:timeout=5", False),
]


def perCall(function: Callable[[], Any], repeat: int) -> float:
    """
    The best time per call of C{function}, in seconds.
    """
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat, number)) / number


def main(argv: list[str]) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    options.add_argument("--repeat", type=int, default=5)
    args = options.parse_args(argv)
    reactor = MemoryReactor()
    # Warm both: imports, Twisted's dropin cache, our table.
    for direction, text, _ in CASES:
        ours = getattr(txendpoints, f"{direction}FromString")
        theirs = getattr(endpoints, f"{direction}FromString")
        ours(reactor, text)
        theirs(reactor, text)

    print(f"{'string':<36}{'Twisted':>12}{'ours':>12}{'ratio':>10}  target")
    failed = False
    for direction, text, plugin in CASES:
        ours = getattr(txendpoints, f"{direction}FromString")
        theirs = getattr(endpoints, f"{direction}FromString")
        twistedTime = perCall(lambda: theirs(reactor, text), args.repeat)  # noqa: B023
        ourTime = perCall(lambda: ours(reactor, text), args.repeat)  # noqa: B023
        ratio = twistedTime / ourTime
        target = 30.0 if plugin else 1.0
        ok = ratio >= target
        failed = failed or not ok
        label = f"{direction[0]} {text}"
        print(
            f"{label:<36}{twistedTime * 1e6:>10.2f}us{ourTime * 1e6:>10.2f}us"
            f"{ratio:>9.1f}x  >={target:g}x {'ok' if ok else 'MISSED'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
