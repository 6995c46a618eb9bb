"""
Stopping a C{tx-stdio} server for real: a child process serves on its
standard output under L{StreamServerEndpointService}, as twistd and
C{twist --listen} run it, and is sent SIGTERM while nobody reads.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

CHILD = """
import sys
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol
from txendpoints import StandardIOServerEndpoint

class Flood(Protocol):
    def connectionMade(self):
        # Far more than a pipe holds: most of it waits in our buffer.
        self.transport.write(b"x" * (4 << 20))

def ready():
    # Once the reactor runs, which is when its SIGTERM handler is in place.
    sys.stderr.write("ready\\n")
    sys.stderr.flush()

service = StreamServerEndpointService(
    StandardIOServerEndpoint(reactor), Factory.forProtocol(Flood)
)
service.startService()
reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
reactor.callWhenRunning(ready)
reactor.run()
sys.stderr.write("stopped\\n")
"""


class StopWhileUnreadTests(SynchronousTestCase):
    def test_sigtermStops(self) -> None:
        """
        SIGTERM stops the service although its output is never read.
        """
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # Cleanups run last first: kill, then reap.
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        assert child.stderr is not None
        self.assertEqual(child.stderr.readline(), b"ready\n")
        child.send_signal(signal.SIGTERM)
        try:
            code = child.wait(15)
        except subprocess.TimeoutExpired:
            self.fail("the child did not stop on SIGTERM")
        self.assertEqual((code, child.stderr.read()), (0, b"stopped\n"))
