"""
C{txendpoints relay} sets C{noDelay=yes} on both of its endpoints unless a
string says C{noDelay=no}: a relay must not add Nagle delay to what it
forwards.  (Its listener also gets the relay's backlog of 1024.)
"""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import describe
from txendpoints._relay._service import parseEndpoints

reactor: Any = _reactor


class RelayNoDelayTests(SynchronousTestCase):
    def test_default(self) -> None:
        listen, connect = parseEndpoints(
            reactor, "tx-tcp6:0:interface=\\:\\:1", "tx-host:localhost:80"
        )
        self.assertEqual(
            describe(listen), "tx-tcp6:0:backlog=1024:interface=\\:\\:1:noDelay=yes"
        )
        self.assertEqual(describe(connect), "tx-host:localhost:80:noDelay=yes")

    def test_saidNo(self) -> None:
        listen, connect = parseEndpoints(
            reactor, "tx-tcp4:0:noDelay=no", "tx-tcp4:127.0.0.1:80:noDelay=no"
        )
        self.assertEqual(describe(listen), "tx-tcp4:0:backlog=1024:noDelay=no")
        self.assertEqual(describe(connect), "tx-tcp4:127.0.0.1:80:noDelay=no")

    def test_notOurs(self) -> None:
        """
        Twisted's endpoints and standard I/O are left as they are.
        """
        listen, connect = parseEndpoints(reactor, "tx-stdio:", "tcp:127.0.0.1:80")
        self.assertEqual(describe(listen), "tx-stdio")
        self.assertEqual(type(connect).__module__, "twisted.internet.endpoints")

    def test_reactorWithoutSockets(self) -> None:
        """
        Where the reactor's client sockets are not ours to configure, the
        client is left as its string says, rather than fail every connect.
        """
        listen, connect = parseEndpoints(
            MemoryReactorClock(), "tx-tcp4:0", "tx-tcp4:127.0.0.1:80"
        )
        self.assertEqual(describe(listen), "tx-tcp4:0:backlog=1024:noDelay=yes")
        self.assertEqual(describe(connect), "tx-tcp4:127.0.0.1:80")
