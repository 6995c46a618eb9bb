"""
Real twistd and twist processes whose listener cannot start: they must exit
non-zero at start-up, as they do with Twisted's C{tcp:}, also when the
interface is a host name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from twisted.trial.unittest import SkipTest, SynchronousTestCase

#: Long enough for a loaded machine to start Python and Twisted; a server
#: that stays up is killed then, and the test fails.
_TIMEOUT = 20.0

_TWIST = ("-m", "twisted")
_TWISTD = ("-c", "from twisted.scripts.twistd import run; run()", "-n", "--pidfile=")


def _localhostHasIPv6() -> bool:
    try:
        return bool(socket.getaddrinfo("localhost", 0, socket.AF_INET6))
    except socket.gaierror:
        return False


class StartupFailureTests(SynchronousTestCase):
    """
    A listener that cannot listen stops the process at start-up, non-zero.
    """

    def setUp(self) -> None:
        self.taken = socket.socket(socket.AF_INET)
        self.addCleanup(self.taken.close)
        self.taken.bind(("127.0.0.1", 0))
        self.taken.listen(1)
        self.port = self.taken.getsockname()[1]
        self.cwd = self.mktemp()
        os.makedirs(self.cwd)

    def start(self, runner: tuple[str, ...], listen: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, *runner, "web", "--listen", listen, "--path", self.cwd],
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.addCleanup(process.kill)
        self.addCleanup(process.wait)
        return process

    def assertExitsNonZero(self, runner: tuple[str, ...], listen: str) -> str:
        process = self.start(runner, listen)
        try:
            output, _ = process.communicate(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            self.fail(f"{listen} is still up after {_TIMEOUT}s:\n{output[-2000:]}")
        self.assertNotEqual(process.returncode, 0, output[-2000:])
        self.assertIn("CannotListenError", output)
        return output

    def test_twistTCP4Name(self) -> None:
        output = self.assertExitsNonZero(
            _TWIST, f"tx-tcp4:{self.port}:interface=localhost"
        )
        self.assertIn("Address already in use", output)

    def test_twistdTCP4Name(self) -> None:
        output = self.assertExitsNonZero(
            _TWISTD, f"tx-tcp4:{self.port}:interface=localhost"
        )
        self.assertIn("Address already in use", output)

    def test_twistHostName(self) -> None:
        """
        With C{tx-host}, whether or not C{localhost} also has ::1 (listened
        on first, and closed again).
        """
        self.assertExitsNonZero(_TWIST, f"tx-host:{self.port}:interface=localhost")

    def test_twistdHostName(self) -> None:
        self.assertExitsNonZero(_TWISTD, f"tx-host:{self.port}:interface=localhost")

    def test_twistdTCP6NameWithoutIPv6(self) -> None:
        """
        A name with no address in the family is a start-up failure too.
        """
        if _localhostHasIPv6():
            raise SkipTest("localhost has an IPv6 address on this host")
        output = self.assertExitsNonZero(_TWISTD, "tx-tcp6:0:interface=localhost")
        self.assertIn("localhost has no IPv6 address", output)

    def test_startsWhenFree(self) -> None:
        """
        Resolving at start-up still listens when the port is free.
        """
        self.taken.close()
        process = self.start(_TWIST, f"tx-tcp4:{self.port}:interface=localhost")
        deadline = time.monotonic() + _TIMEOUT
        while True:
            self.assertIsNone(process.poll(), "the server exited")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.fail("the server never listened")
                time.sleep(0.1)
        process.terminate()
        process.wait(_TIMEOUT)
