"""
Tests for L{txendpoints._tools._catalog}: the installed endpoint types.
"""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from txendpoints._tools import _catalog

from .test_strings_lookup import FakeParser, _twistedVersion

#: The socket options, which every TCP prefix lists after its own.
SOCKET_NAMES = (
    "noDelay keepAlive keepIdle keepInterval keepCount userTimeout bindDevice "
    "receiveBuffer sendBuffer multipath fastOpen"
).split()


class CatalogTests(SynchronousTestCase):
    """
    L{_catalog.installedEndpointTypes} lists the real environment.
    """

    def test_ours(self) -> None:
        found = {(t.prefix, t.direction): t for t in _catalog.installedEndpointTypes()}
        ours = found[("tx-tcp6", "server")]
        self.assertEqual(ours.description, "TCP listener on IPv6")
        self.assertTrue(ours.distribution.startswith("txendpoints "))
        self.assertEqual(ours.source, "twisted.plugins.txendpoints_endpoints")
        assert ours.options is not None
        self.assertEqual(
            [str(o) for o in ours.options],
            [
                "port (required)",
                "backlog=50",
                "interface=\\:\\:",
                "ipv6Only",
                "reusePort=no",
                *SOCKET_NAMES,
            ],
        )
        interface = ours.options[2]
        self.assertEqual(interface.default, "::")
        self.assertEqual(interface.type, "host name or IPv6 address")
        assert interface.doc is not None
        self.assertIn("listen on", interface.doc)

    def test_twisted(self) -> None:
        found = {(t.prefix, t.direction): t for t in _catalog.installedEndpointTypes()}
        label = f"Twisted {_twistedVersion()}"
        self.assertEqual(found[("tcp", "server")].source, "built-in")
        self.assertEqual(found[("tcp6", "server")].distribution, label)
        tcp6 = found[("tcp6", "server")].options
        assert tcp6 is not None
        self.assertEqual(
            [str(o) for o in tcp6],
            ["port (required)", "backlog=50", "interface=\\:\\:"],
        )
        tcp = found[("tcp", "client")].options
        assert tcp is not None
        self.assertEqual(
            (tcp[1].name, tcp[1].type, tcp[1].doc),
            ("port", "integer 0-65535", "TCP port to connect to."),
        )
        tls = found[("tls", "client")].options
        assert tls is not None
        self.assertEqual(tls[2].name, "timeout")
        self.assertEqual(tls[2].default, "30")

    def test_direction(self) -> None:
        self.assertEqual(
            {t.direction for t in _catalog.installedEndpointTypes("client")}, {"client"}
        )

    def test_signatureOptions(self) -> None:
        """
        A third-party parser's options come from its method signature.
        """

        class Parser:
            """
            Listen on I{something}.  More text.
            """

            prefix = "x"

            def parseStreamServer(
                self, reactor: Any, path: str, mode: bool = True, other: Any = None
            ) -> None:
                pass

        options = _catalog._pluginOptions(Parser(), "server")
        assert options is not None
        self.assertEqual(
            [str(o) for o in options], ["path (required)", "mode=1", "other"]
        )
        self.assertEqual(_catalog._oneLine(Parser()), "Listen on something")
        self.assertIsNone(_catalog._pluginOptions(FakeParser("y", "y"), "server"))
