"""
Tests for L{txendpoints._strings._hints}: a string written for the other
direction gets a hint.
"""

from __future__ import annotations

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import EndpointStringError, TCP4ServerEndpoint
from txendpoints._strings._hints import otherDirectionHint, parseFor


class OtherDirectionHintTests(SynchronousTestCase):
    def hint(self, text: str, direction: str) -> str:
        return otherDirectionHint(MemoryReactorClock(), text, direction)  # type: ignore[arg-type]

    def test_clientAsServer(self) -> None:
        """
        A client string given to listen on gets the server string for the
        same address.
        """
        self.assertEqual(
            self.hint("tx-tcp4:127.0.0.1:8080", "server"),
            "it is a client string (to connect to 127.0.0.1 port 8080); to "
            "listen there, write tx-tcp4:8080:interface=127.0.0.1 (a server "
            "string takes the address as interface=)",
        )

    def test_ipv6Escaped(self) -> None:
        self.assertIn(
            "write tx-tcp6:80:interface=\\:\\:1 (",
            self.hint("tx-tcp6:\\:\\:1:80", "server"),
        )

    def test_twistedClient(self) -> None:
        """
        Twisted's own TCP client strings get the hint too.
        """
        self.assertIn(
            "write tcp:80:interface=localhost (",
            self.hint("TCP:localhost:80", "server"),
        )

    def test_serverAsClient(self) -> None:
        self.assertEqual(
            self.hint("tx-tcp4:8080", "client"),
            "it is a server string (one to listen on)",
        )

    def test_badEitherWay(self) -> None:
        self.assertEqual(self.hint("tx-tcp4:x:y:z", "server"), "")
        self.assertEqual(self.hint("nope:1", "client"), "")


class ParseForTests(SynchronousTestCase):
    def test_good(self) -> None:
        endpoint = parseFor(MemoryReactorClock(), "tx-tcp4:0", "server")
        self.assertIsInstance(endpoint, TCP4ServerEndpoint)

    def test_ourErrorWithHint(self) -> None:
        """
        Our error keeps its type and attributes; its message gets the label,
        the hint and the advice.
        """
        with self.assertRaises(EndpointStringError) as caught:
            parseFor(
                MemoryReactorClock(),
                "tx-tcp4:127.0.0.1:80",
                "server",
                advice="or add --client",
                label="LISTEN",
            )
        error = caught.exception
        self.assertEqual(error.prefix, "tx-tcp4")
        self.assertEqual(error.value, "80")
        self.assertTrue(str(error).startswith("LISTEN: tx-tcp4: unexpected"))
        self.assertTrue(
            str(error).endswith("as interface=); or add --client"), str(error)
        )

    def test_noHintNoAdvice(self) -> None:
        with self.assertRaises(EndpointStringError) as caught:
            parseFor(MemoryReactorClock(), "tx-tcp4:http", "server", advice="x")
        self.assertEqual(
            str(caught.exception),
            "tx-tcp4: port 'http' is not a number from 0 to 65535",
        )

    def test_otherParser(self) -> None:
        """
        Another parser's error, of whatever type, is a L{ValueError} that
        quotes the string.
        """
        with self.assertRaises(ValueError) as caught:
            parseFor(MemoryReactorClock(), "tcp:8080", "client", label="CONNECT")
        self.assertNotIsInstance(caught.exception, EndpointStringError)
        self.assertEqual(
            str(caught.exception),
            "CONNECT: 'tcp:8080' was rejected by its parser: TypeError: "
            + str(caught.exception.__cause__)
            + "; it is a server string (one to listen on)",
        )
