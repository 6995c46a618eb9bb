"""
Relay throughput on loopback: C{txendpoints relay} against C{socat} and
C{twistd portforward}, in the same run.

The same payload (1 GiB by default) goes from a source in this process,
through each relay, to a sink process; both use large buffers so that they
are not what is measured.  Time runs from connecting to the moment the sink
has read end of input (the relays pass the source's end of input on), so a
relay that closes the source early gains nothing.  socat runs twice: with
its defaults (what the ratio is against) and with 128 KiB buffers.  Each
relay runs C{--rounds} times, interleaved, and the best round counts.
Prints MB/s for each (MB = 10**6 bytes), the ratio ours/socat, and each
relay's peak RSS (socat's includes the child it forks per connection).

    python benchmarks/relay.py [--size MiB] [--rounds N]

C{socat} is installed with C{apt-get} if it is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

MiB = 1 << 20
BUFFER = 4 * MiB

SINK = textwrap.dedent(
    """
    import socket, sys, time
    server = socket.create_server(("127.0.0.1", 0))
    print(server.getsockname()[1], flush=True)
    buffer = bytearray(4 << 20)
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        total = 0
        while n := conn.recv_into(buffer):
            total += n
        end = time.monotonic()
        conn.close()
        print(total, end, flush=True)
    """
)


def ensureSocat() -> str:
    """
    The path of C{socat}, installed with C{apt-get} if it is missing.
    """
    found = shutil.which("socat")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("socat is missing; installing it with apt-get", file=sys.stderr)
    install = [*sudo, "apt-get", "install", "-y", "-q", "socat"]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("socat")
    if not found:
        raise SystemExit("socat could not be installed")
    return found


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def waitConnectable(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{process.args} did not listen on {port}")


def peakRSS(pid: int) -> int:
    """
    The peak resident set size of C{pid} and its children that are still
    alive (socat forks one per connection), in bytes.
    """
    total = 0
    pids = [pid]
    try:
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class Relay:
    """
    One relay under test, listening on loopback and forwarding to the sink.
    """

    def __init__(self, name: str, start: Callable[[int], tuple[list[str], int | None]]):
        self.name = name
        self.start = start
        self.rates: list[float] = []
        self.peak = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def launch(self, sinkPort: int) -> None:
        command, port = self.start(sinkPort)
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if port is None:
            assert self.process.stderr is not None
            for raw in self.process.stderr:
                line = raw.decode()
                if match := re.search(r"listening on 127\.0\.0\.1:(\d+)", line):
                    port = int(match.group(1))
                    break
            else:
                raise SystemExit(f"{self.name} did not say where it listens")
            # Keep draining its standard error so that it never blocks.
            threading.Thread(target=self.process.stderr.read, daemon=True).start()
        waitConnectable(port, self.process)
        self.port = port

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(60)


def transfer(relay: Relay, size: int, sink: subprocess.Popen[str]) -> float:
    """
    Send C{size} bytes through C{relay}, sampling its peak RSS meanwhile.

    @return: Megabytes per second, until the sink read end of input.
    """
    assert relay.process is not None
    pid = relay.process.pid
    done = threading.Event()

    def sample() -> None:
        # socat's forked child only lives as long as the connection.
        while not done.wait(0.05):
            relay.peak = max(relay.peak, peakRSS(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        return _send(relay.port, size, sink)
    finally:
        done.set()
        sampler.join()
        relay.peak = max(relay.peak, peakRSS(pid))


def _send(port: int, size: int, sink: subprocess.Popen[str]) -> float:
    payload = memoryview(os.urandom(BUFFER))
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)
        left = size
        while left:
            n = min(left, BUFFER)
            sock.sendall(payload[:n])
            left -= n
        sock.shutdown(socket.SHUT_WR)
        assert sink.stdout is not None
        received, end = sink.stdout.readline().split()
    if int(received) != size:
        raise SystemExit(f"the sink received {received} bytes of {size}")
    return size / (float(end) - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.size < 1024:
        print(f"note: {args.size} MiB is under the 1 GiB the target is set for")
    size = args.size * MiB
    socat = ensureSocat()
    bindir = os.path.dirname(sys.executable)

    def ours(sink: int) -> tuple[list[str], int | None]:
        listen, connect = "tx-tcp4:0:interface=127.0.0.1", f"tcp:127.0.0.1:{sink}"
        return [
            sys.executable,
            "-m",
            "txendpoints",
            "relay",
            "--quiet",
            listen,
            connect,
        ], None

    def theirs(sink: int, *options: str) -> tuple[list[str], int | None]:
        port = freePort()
        listen = f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"
        return [socat, *options, listen, f"TCP:127.0.0.1:{sink}"], port

    def portforward(sink: int) -> tuple[list[str], int | None]:
        port = freePort()
        twistd = os.path.join(bindir, "twistd")
        return [
            *(twistd, "-n", "--pidfile=", "portforward"),
            *("--port", f"tcp:{port}:interface=127.0.0.1"),
            *("--host", "127.0.0.1", "--dest_port", str(sink)),
        ], port

    relays = [
        Relay("txendpoints relay", ours),
        Relay("socat", theirs),
        Relay("twistd portforward", portforward),
        # socat reads 8 KiB at a time by default; with 128 KiB it is faster.
        Relay("socat -b 131072", lambda sink: theirs(sink, "-b", "131072")),
    ]
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout is not None
        sinkPort = int(sink.stdout.readline())
        for relay in relays:
            relay.launch(sinkPort)
        # The connection checks above reached the sink too; drop their lines.
        for _ in relays:
            sink.stdout.readline()
        for round in range(args.rounds):
            # Alternate the order, so that no relay always follows the same
            # one (the machine's caches and load carry over).
            for relay in relays if round % 2 == 0 else relays[::-1]:
                relay.rates.append(transfer(relay, size, sink))
                print(
                    f"round {round + 1}: {relay.name:20} {relay.rates[-1]:8.1f} MB/s",
                    flush=True,
                )
    finally:
        for relay in relays:
            relay.stop()
        sink.kill()
        sink.wait()

    print()
    load = os.getloadavg()[0]
    print(f"{args.size} MiB per round, best of {args.rounds}; load {load:.1f}")
    for relay in relays:
        print(
            f"{relay.name:20} {max(relay.rates):8.1f} MB/s   "
            f"peak RSS {relay.peak / MiB:6.1f} MiB"
        )
    best = max(relays[0].rates)
    print(f"ratio ours/socat: {best / max(relays[1].rates):.2f} (target >= 1.0)")
    for relay in relays[2:]:
        print(f"ratio ours/{relay.name}: {best / max(relay.rates):.2f}")


if __name__ == "__main__":
    main()
