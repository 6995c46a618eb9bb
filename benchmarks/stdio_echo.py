"""
Echo throughput through a child's standard I/O: Twisted's C{stdio} endpoint
against our C{tx-stdio}, in the same run.

    python benchmarks/stdio_echo.py [MiB]

Each round pipes the payload through a child Python process that echoes it
with C{serverFromString(reactor, PREFIX)}, reading the output concurrently,
and reports the best of five, alternating the two.  Bytes returned are
checked too: Twisted's endpoint can drop output at end of input.
"""

from __future__ import annotations

import subprocess
import sys
import time

PREFIXES = ("stdio", "tx-stdio")

CHILD = """
import sys
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from twisted.internet.protocol import Factory, Protocol

class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)

    def connectionLost(self, reason):
        reactor.stop()

serverFromString(reactor, sys.argv[1]).listen(Factory.forProtocol(Echo))
reactor.run()
"""


def once(prefix: str, payload: bytes) -> tuple[float, int]:
    """
    @return: Seconds for one round, and the bytes returned.
    """
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, prefix],
        input=payload,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start, len(done.stdout)


def measure(payload: bytes, rounds: int = 5) -> dict[str, tuple[float, int]]:
    """
    Alternate the two prefixes round by round, so that load from elsewhere
    falls on both alike.

    @return: Per prefix, the best seconds and the fewest bytes returned.
    """
    results = {prefix: (float("inf"), len(payload)) for prefix in PREFIXES}
    for _ in range(rounds):
        for prefix in PREFIXES:
            seconds, returned = once(prefix, payload)
            best, fewest = results[prefix]
            results[prefix] = (min(best, seconds), min(fewest, returned))
    return results


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    payload = bytes(range(256)) * (4096 * mib)
    results = measure(payload)
    for prefix, (seconds, returned) in results.items():
        print(
            f"{prefix:>9}: {mib / seconds:8.1f} MiB/s, "
            f"{returned}/{len(payload)} bytes returned"
        )
    ratio = results["stdio"][0] / results["tx-stdio"][0]
    print(f"tx-stdio throughput / stdio throughput: {ratio:.3f}")
    # Process start-up (interpreter, reactor, plugin scan) is in every round;
    # an empty input shows how much of the difference it is.
    empty = {prefix: best for prefix, (best, _) in measure(b"").items()}
    print(
        f"start-up alone (empty input): stdio {empty['stdio'] * 1000:.0f} ms, "
        f"tx-stdio {empty['tx-stdio'] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
