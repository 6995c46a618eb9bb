"""
Tests for L{txendpoints._strings._quoting}: Twisted's backslash quoting.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.endpoints import _parse
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._strings._quoting import escape, unescape


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
