"""
Real-system test of Twisted's default resolver as we ask it: inside a
network namespace of its own, with its own hosts file and a resolv.conf
that points at a DNS listener of the test's own, a C{tx-host} connect sends
no DNS query for a name the hosts file answers, nor for C{localhost} when
the hosts file has no C{::1} for it (issue 17, fault 3).  Needs root and
C{ip netns}; no query ever leaves the namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from twisted.trial.unittest import SkipTest, SynchronousTestCase

_SCRIPT = textwrap.dedent(
    """
    import json, socket, threading
    from twisted.internet import reactor
    from twisted.internet.defer import DeferredList
    from twisted.internet.error import ConnectionRefusedError
    from twisted.internet.protocol import Factory, Protocol
    from txendpoints import clientFromString

    queries = []
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 53))

    def listen():
        while True:
            data, peer = dns.recvfrom(4096)
            queries.append(data[12:].split(b"\\0")[0].hex())

    threading.Thread(target=listen, daemon=True).start()
    results = {}

    def connect(string):
        d = clientFromString(reactor, string).connect(Factory.forProtocol(Protocol))
        def record(reason):
            refused = isinstance(reason.value, ConnectionRefusedError)
            results[string] = "refused" if refused else repr(reason.value)
        d.addErrback(record)
        return d

    def main():
        d = DeferredList([
            connect("tx-host:v4only.test:9:timeout=5"),
            connect("tx-host:localhost:9:timeout=5"),
            connect("tx-host:dns.test:9:timeout=5"),
        ])
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(main)
    reactor.run()
    print(json.dumps({"queries": queries, "results": results}))
    """
)


class NoStrayQueriesTests(SynchronousTestCase):
    def setUp(self) -> None:
        if os.geteuid() != 0 or shutil.which("ip") is None:
            raise SkipTest("needs root and ip netns")
        self.name = f"txe-he-{os.getpid()}"
        if subprocess.run(["ip", "netns", "add", self.name]).returncode != 0:
            raise SkipTest("cannot make a network namespace")
        self.addCleanup(subprocess.run, ["ip", "netns", "delete", self.name])
        subprocess.run(
            ["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"],
            check=True,
        )
        etc = Path("/etc/netns") / self.name
        etc.mkdir(parents=True)
        self.addCleanup(shutil.rmtree, etc)
        # No ::1 for localhost, and v4only.test with an IPv4 address only.
        (etc / "hosts").write_text("127.0.0.1 localhost\n192.0.2.7 v4only.test\n")
        (etc / "resolv.conf").write_text(
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
        )

    def test_noQueryForHostsFileNames(self) -> None:
        result = subprocess.run(
            ["ip", "netns", "exec", self.name, sys.executable, "-c", _SCRIPT],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout.splitlines()[-1])
        names = [bytes.fromhex(q) for q in report["queries"]]
        # Only the name no file knows went to DNS (its A and AAAA queries,
        # which the test's listener never answers).
        self.assertTrue(names, report)
        self.assertTrue(all(b"dns" in n and b"test" in n for n in names), names)
        self.assertEqual(report["results"]["tx-host:localhost:9:timeout=5"], "refused")
