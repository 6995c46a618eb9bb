"""
The socket options in C{txendpoints check} and C{txendpoints list}: every
option with its type, default, platforms and meaning, and what
C{multipath=yes} will do on this kernel.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import clientFromString, serverFromString
from txendpoints._tools import _plan
from txendpoints._tools._catalog import installedEndpointTypes, optionLines
from txendpoints._tools._plan import plan

from .test_tools_catalog import SOCKET_NAMES
from .test_tools_cli import run


class PlanTests(SynchronousTestCase):
    def test_options(self) -> None:
        endpoint = serverFromString(
            MemoryReactorClock(), "tx-tcp4:80:keepIdle=30:noDelay=yes:sendBuffer=1M"
        )
        self.assertEqual(
            plan(endpoint, "server"),
            "listen on 0.0.0.0:80 (TCP, IPv4, backlog 50, noDelay yes, keepAlive "
            "yes, keepIdle 30s, sendBuffer 1M)",
        )

    def test_multipath(self) -> None:
        """
        C{check} says whether this kernel gives Multipath TCP or the
        fallback to plain TCP.
        """
        endpoint = clientFromString(MemoryReactorClock(), "tx-tcp6:h:80:multipath=yes")
        self.patch(_plan, "multipathWorks", lambda: True)
        self.assertIn("multipath yes (Multipath TCP)", plan(endpoint, "client"))
        self.patch(_plan, "multipathWorks", lambda: False)
        self.assertIn(
            "multipath yes (this kernel refuses Multipath TCP: plain TCP, logged once)",
            plan(endpoint, "client"),
        )


class ListTests(SynchronousTestCase):
    def test_optionInfo(self) -> None:
        found: dict[tuple[str, str], Any] = {
            (t.prefix, t.direction): t for t in installedEndpointTypes()
        }
        for key in [("tx-tcp4", "server"), ("tx-host", "client")]:
            options = found[key].options
            assert options is not None
            byName = {o.name: o for o in options}
            for name in SOCKET_NAMES:
                self.assertIn("Platforms: ", byName[name].doc or "", (key, name))
                self.assertTrue(byName[name].type, (key, name))
        assert options is not None
        lines = optionLines(options)
        self.assertIn(
            "userTimeout: seconds (decimal, above 0, at most 2147483.647); default: "
            "unset. Seconds sent data may stay unacknowledged before the "
            "connection is dropped (TCP_USER_TIMEOUT, to the millisecond). "
            "Platforms: Linux.",
            lines,
        )
        self.assertIn("port: integer 0-65535; required. TCP port to connect to.", lines)
        self.assertIn(
            "fastOpen: yes|no|true|false|1|0; default: unset. TCP Fast Open "
            "(TCP_FASTOPEN_CONNECT): send the first data in the SYN to a server "
            "that has given this host a cookie. Platforms: Linux 4.11 or later.",
            lines,
        )

    def test_long(self) -> None:
        result = run("list", "--server", "--long")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = [line.strip() for line in result.stdout.splitlines()]
        self.assertIn(
            "noDelay: yes|no|true|false|1|0; default: unset. TCP_NODELAY: yes sends "
            "small writes at once (Nagle's algorithm off). Platforms: all.",
            lines,
        )
        self.assertIn(
            "backlog: integer 1-65535; default: 50. Size of the listen queue.", lines
        )
