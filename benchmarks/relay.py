"""
Relay throughput, concurrency and connection rate on loopback:
C{txendpoints relay} against C{socat} and C{twistd portforward}, in the
same run.

Three scenarios, each relay C{--rounds} times, interleaved (the order
alternates), the best round counting:

  - stream: one stream of C{--size} MiB (1 GiB by default) from a source
    in this process, through the relay, to a sink process; both use 4 MiB
    buffers so that they are not what is measured.  Time runs from
    connecting to the moment the sink has read end of input (the relays
    pass the source's end of input on).  Ours on the splice path and on
    the transport path (C{TXENDPOINTS_SPLICE=no}), socat with
    C{-b 1048576} (the target) and with its default 8 KiB buffers, and
    C{twistd portforward}.
  - aggregate: C{--streams} concurrent streams of C{--stream-size} MiB
    (16 x 256 MiB), total bytes over the time until the last one ended:
    ours with C{--workers 2} (and with one process) against socat C{fork},
    with C{-b 1048576} and with its defaults.
  - short: C{--connections} connections (5,000), C{--concurrency} (32) at a
    time, each sending 1 KiB, half-closing, and reading the 1 KiB answer
    until end of input: connections per second, ours (one process and
    C{--workers 2}) against socat C{fork}.

For each relay it prints the rate, the ratio ours/peer, user+sys CPU
seconds of the relay's processes (workers and socat's forked children
included) per GiB relayed (per 1,000 connections for short), and the
largest peak RSS of any one of its processes.

    python benchmarks/relay.py [--rounds N] [--size MiB] [--only stream,aggregate,short]

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
GiB = 1 << 30
BUFFER = 4 * MiB
TICK = os.sysconf("SC_CLK_TCK")

#: Counts what each connection sends, then prints its total and when it
#: ended; a thread per connection, so that streams run concurrently.
SINK = textwrap.dedent(
    """
    import socket, sys, threading, time
    server = socket.create_server(("127.0.0.1", 0), backlog=1024)
    print(server.getsockname()[1], flush=True)
    lock = threading.Lock()
    def count(conn):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        buffer = bytearray(4 << 20)
        total = 0
        while n := conn.recv_into(buffer):
            total += n
        end = time.monotonic()
        conn.close()
        if total:
            with lock:
                print(total, end, flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=count, args=(conn,), daemon=True).start()
    """
)

#: Reads until end of input, answers 1 KiB and closes.
ANSWER = textwrap.dedent(
    """
    import asyncio
    async def handle(reader, writer):
        await reader.read()
        writer.write(b"a" * 1024)
        await writer.drain()
        writer.close()
    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()
    asyncio.run(main())
    """
)

#: Makes the short connections; prints the seconds they took.
CLIENT = textwrap.dedent(
    """
    import asyncio, sys, time
    port, total, concurrency = map(int, sys.argv[1:4])
    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"q" * 1024)
        writer.write_eof()
        answer = await reader.read()
        writer.close()
        if len(answer) != 1024:
            raise SystemExit(f"answer of {len(answer)} bytes")
    async def worker(left):
        while left[0] > 0:
            left[0] -= 1
            await one()
    async def main():
        left = [total]
        start = time.monotonic()
        await asyncio.gather(*(worker(left) for _ in range(concurrency)))
        print(time.monotonic() - start, flush=True)
    asyncio.run(main())
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


def tree(pid: int) -> list[int]:
    """
    C{pid} and its live descendants.
    """
    found, queue = [], [pid]
    while queue:
        p = queue.pop()
        found.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                queue += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found


def cpuSeconds(pid: int) -> float:
    """
    User+sys CPU seconds of C{pid}, its live descendants and the children
    it has reaped (socat's forked ones).
    """
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17, 1-based, of stat.
        total += sum(int(x) for x in fields[11:15])
    return total / TICK


def peakRSS(pid: int) -> int:
    """
    The largest peak resident set size of any live process in C{pid}'s
    tree, in bytes.
    """
    peak = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            pass
    return peak


class Relay:
    """
    One relay under test, listening on loopback and forwarding to a
    backend.

    @ivar rates: The rate of each round.
    @ivar cpu: CPU seconds per unit (GiB, or 1,000 connections) each round.
    """

    def __init__(
        self,
        name: str,
        start: Callable[[int], tuple[list[str], int | None]],
        env: dict[str, str] | None = None,
        ready: str | None = None,
    ) -> None:
        self.name = name
        self.start = start
        self.env = env
        self.ready = ready
        self.rates: list[float] = []
        self.cpu: list[float] = []
        self.peak = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def launch(self, backendPort: int) -> None:
        command, port = self.start(backendPort)
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(self.env or {})},
        )
        if port is None or self.ready:
            assert self.process.stderr is not None
            wanted = self.ready or r"listening on"
            for raw in self.process.stderr:
                line = raw.decode()
                if match := re.search(r"listening on 127\.0\.0\.1:(\d+)", line):
                    port = int(match.group(1))
                if port is not None and re.search(wanted, line):
                    break
            else:
                raise SystemExit(f"{self.name} did not say where it listens")
            # Keep draining its standard error so that it never blocks.
            threading.Thread(target=self.process.stderr.read, daemon=True).start()
        assert port is not None
        waitConnectable(port, self.process)
        self.port = port

    def measure(self, run: Callable[[int], float], units: float) -> float:
        """
        Run one round, sampling peak RSS, and record its CPU per unit.
        """
        assert self.process is not None
        pid = self.process.pid
        done = threading.Event()

        def sample() -> None:
            # socat's forked children only live as long as a connection.
            while not done.wait(0.05):
                self.peak = max(self.peak, peakRSS(pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        before = cpuSeconds(pid)
        try:
            rate = run(self.port)
        finally:
            done.set()
            sampler.join()
            self.peak = max(self.peak, peakRSS(pid))
        # Let socat reap the last children, so that their time counts.
        time.sleep(0.2)
        self.cpu.append((cpuSeconds(pid) - before) / units)
        self.rates.append(rate)
        return rate

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def streams(port: int, count: int, size: int, sink: subprocess.Popen[str]) -> float:
    """
    Send C{count} streams of C{size} bytes at once through a relay.

    @return: Megabytes per second, all streams together, until the last
        one's end of input reached the sink.
    """
    payload = memoryview(os.urandom(BUFFER))
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)
                left = size
                while left:
                    n = min(left, BUFFER)
                    sock.sendall(payload[:n])
                    left -= n
                sock.shutdown(socket.SHUT_WR)
                sock.recv(1)
        except BaseException as e:
            errors.append(e)

    start = time.monotonic()
    senders = [threading.Thread(target=send, daemon=True) for _ in range(count)]
    for sender in senders:
        sender.start()
    assert sink.stdout is not None
    ends = []
    for _ in range(count):
        received, end = sink.stdout.readline().split()
        if int(received) != size:
            raise SystemExit(f"the sink received {received} bytes of {size}")
        ends.append(float(end))
    for sender in senders:
        sender.join()
    if errors:
        raise SystemExit(f"a stream failed: {errors[0]!r}")
    return count * size / (max(ends) - start) / 1e6


def shortConnections(port: int, total: int, concurrency: int) -> float:
    """
    @return: Connections per second.
    """
    result = subprocess.run(
        [sys.executable, "-c", CLIENT, str(port), str(total), str(concurrency)],
        capture_output=True,
        text=True,
        check=True,
    )
    return total / float(result.stdout)


def backend(script: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def runScenario(
    title: str,
    relays: list[Relay],
    script: str,
    rounds: int,
    run: Callable[[int, subprocess.Popen[str]], float],
    units: float,
    rateUnit: str,
    cpuUnit: str,
) -> None:
    print(f"\n== {title}", flush=True)
    server, port = backend(script)
    try:
        for relay in relays:
            relay.launch(port)
        for round in range(rounds):
            # Alternate the order, so that no relay always follows the same
            # one (the machine's caches and load carry over).
            for relay in relays if round % 2 == 0 else relays[::-1]:
                rate = relay.measure(lambda p: run(p, server), units)
                print(
                    f"round {round + 1}: {relay.name:28} {rate:9.1f} {rateUnit}",
                    flush=True,
                )
    finally:
        for relay in relays:
            relay.stop()
        server.kill()
        server.wait()
    print(f"-- best of {rounds}; load {os.getloadavg()[0]:.1f}")
    for relay in relays:
        print(
            f"{relay.name:28} {max(relay.rates):9.1f} {rateUnit}  "
            f"cpu {min(relay.cpu):6.2f} s/{cpuUnit}  "
            f"peak RSS {relay.peak / MiB:5.1f} MiB"
        )
    oursRelays = [r for r in relays if r.name.startswith("ours")]
    for ours in oursRelays:
        for peer in relays:
            if peer not in oursRelays:
                ratio = max(ours.rates) / max(peer.rates)
                print(f"ratio {ours.name} / {peer.name}: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB per stream")
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--stream-size", type=int, default=256, help="MiB each")
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="stream,aggregate,short")
    args = parser.parse_args()
    scenarios = set(args.only.split(","))
    socat = ensureSocat()
    bindir = os.path.dirname(sys.executable)
    print(f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f} at start")

    def ours(*options: str) -> Callable[[int], tuple[list[str], int | None]]:
        def start(target: int) -> tuple[list[str], int | None]:
            listen, connect = "tx-tcp4:0:interface=127.0.0.1", f"tcp:127.0.0.1:{target}"
            command = [sys.executable, "-m", "txendpoints", "relay", "--quiet"]
            return [*command, *options, listen, connect], None

        return start

    def theirs(*options: str) -> Callable[[int], tuple[list[str], int | None]]:
        def start(target: int) -> tuple[list[str], int | None]:
            port = freePort()
            listen = f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024"
            return [socat, *options, listen, f"TCP:127.0.0.1:{target}"], port

        return start

    def portforward(target: int) -> tuple[list[str], int | None]:
        port = freePort()
        twistd = os.path.join(bindir, "twistd")
        return [
            *(twistd, "-n", "--pidfile=", "portforward"),
            *("--port", f"tcp:{port}:interface=127.0.0.1"),
            *("--host", "127.0.0.1", "--dest_port", str(target)),
        ], port

    noSplice = {"TXENDPOINTS_SPLICE": "no"}
    workers = r"workers relay"
    if "stream" in scenarios:
        size = args.size * MiB
        runScenario(
            f"one stream of {args.size} MiB",
            [
                Relay("ours (splice)", ours()),
                Relay("ours (transports)", ours(), env=noSplice),
                Relay("socat -b 1048576", theirs("-b", "1048576")),
                Relay("socat", theirs()),
                Relay("twistd portforward", portforward),
            ],
            SINK,
            args.rounds,
            lambda port, sink: streams(port, 1, size, sink),
            size / GiB,
            "MB/s",
            "GiB",
        )
    if "aggregate" in scenarios:
        size = args.stream_size * MiB
        runScenario(
            f"{args.streams} concurrent streams of {args.stream_size} MiB",
            [
                Relay("ours --workers 2", ours("--workers", "2"), ready=workers),
                Relay("ours", ours()),
                Relay("socat -b 1048576 fork", theirs("-b", "1048576")),
                Relay("socat fork", theirs()),
            ],
            SINK,
            args.rounds,
            lambda port, sink: streams(port, args.streams, size, sink),
            args.streams * size / GiB,
            "MB/s",
            "GiB",
        )
    if "short" in scenarios:
        runScenario(
            f"{args.connections} connections of 1 KiB each way, "
            f"{args.concurrency} at a time",
            [
                Relay("ours", ours()),
                Relay("ours (transports)", ours(), env=noSplice),
                Relay("ours --workers 2", ours("--workers", "2"), ready=workers),
                Relay("socat fork", theirs()),
            ],
            ANSWER,
            args.rounds,
            lambda port, _: shortConnections(port, args.connections, args.concurrency),
            args.connections / 1000,
            "conn/s",
            "1000 conn",
        )


if __name__ == "__main__":
    main()
