"""
Tests for L{txendpoints._strings._quoting}: Twisted's backslash quoting.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.endpoints import _parse
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._net import addressFamily
from txendpoints._strings import _quoting
from txendpoints._strings._quoting import escape, excerpt, ipv6Hint, unescape


class EscapeTests(SynchronousTestCase):
    """
    L{escape} quotes text so that Twisted's tokenizer gives it back.
    """

    def test_colons(self) -> None:
        self.assertEqual(escape("::1"), "\\:\\:1")
        self.assertEqual(escape("a=b"), "a=b")
        self.assertEqual(escape("a=b", positional=True), "a\\=b")
        self.assertEqual(escape("a\\b"), "a\\\\b")

    @given(st.text())
    def test_tokenizerRoundTrip(self, text: str) -> None:
        for positional in (True, False):
            quoted = escape(text, positional)
            if positional:
                args, kwargs = _parse("p:" + quoted)
                self.assertEqual(args, ["p", text])
                self.assertEqual(kwargs, {})
            else:
                args, kwargs = _parse("p:k=" + quoted)
                self.assertEqual(kwargs, {"k": text})
            self.assertEqual(unescape(quoted), text)


class ExcerptTests(SynchronousTestCase):
    """
    L{excerpt} quotes a piece of the input for a message, short whatever
    the input.
    """

    def test_short(self) -> None:
        self.assertEqual(excerpt("http"), "'http'")
        self.assertEqual(excerpt(""), "''")
        self.assertEqual(excerpt("a" * 60), repr("a" * 60))

    def test_long(self) -> None:
        self.assertEqual(
            excerpt("a" * 40 + "b" * 4_000_000),
            repr("a" * 40) + "... (4000040 characters)",
        )

    @given(st.text(min_size=61))
    def test_bounded(self, text: str) -> None:
        shown = excerpt(text)
        self.assertTrue(shown.startswith(repr(text[:40])), shown)
        self.assertLessEqual(len(shown), len(repr("\U0010ffff" * 40)) + 30)


class IPv6HintCostTests(SynchronousTestCase):
    """
    Looking for a cut IPv6 literal costs little whatever the input: it
    tries no more candidates for very many pieces than for a few, and never
    reads a long piece as one.
    """

    def countLiterals(self) -> list[str]:
        tried: list[str] = []

        def counting(text: str) -> int | None:
            tried.append(text)
            return addressFamily(text)

        self.patch(_quoting, "addressFamily", counting)
        return tried

    def test_manyPieces(self) -> None:
        tried = self.countLiterals()
        self.assertEqual(
            ipv6Hint(frozenset({"interface"}), ["port"], ["1"] * 20, {}), ""
        )
        few = len(tried)
        tried.clear()
        self.assertEqual(
            ipv6Hint(frozenset({"interface"}), ["port"], ["1"] * 20_000, {}), ""
        )
        self.assertLessEqual(len(tried), few)

    def test_longPiece(self) -> None:
        tried = self.countLiterals()
        long = "1" * 100_000
        ipv6Hint(frozenset({"interface"}), ["port"], ["", long], {"interface": long})
        self.assertLessEqual(max(map(len, tried), default=0), 128)

    def test_hintKept(self) -> None:
        """
        A literal cut into as many pieces as one can have is still found.
        """
        self.assertIn(
            "interface=1\\:2\\:3\\:4\\:5\\:6\\:7\\:8",
            ipv6Hint(
                frozenset({"interface"}),
                ["port"],
                ["2", "3", "4", "5", "6", "7", "8", "80"],
                {"interface": "1"},
            ),
        )
