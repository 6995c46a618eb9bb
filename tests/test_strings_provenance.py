"""
Tests for L{txendpoints._strings._provenance}: which distribution provides
a plugin.
"""

from __future__ import annotations

from importlib import metadata

from twisted.trial.unittest import SynchronousTestCase

from txendpoints._strings import _parsers
from txendpoints._strings._provenance import distributionOf, dropinModule


class ProvenanceTests(SynchronousTestCase):
    def test_ourDropin(self) -> None:
        """
        Our parsers live in our dropin and come from our distribution.
        """
        import twisted.plugins.txendpoints_endpoints  # noqa: F401

        self.assertEqual(
            dropinModule(_parsers.tcp4Server), "twisted.plugins.txendpoints_endpoints"
        )
        self.assertEqual(
            distributionOf(_parsers.tcp4Server),
            f"txendpoints {metadata.version('txendpoints')}",
        )

    def test_noDropin(self) -> None:
        """
        An object in no dropin is traced through its class's module; one
        that no distribution owns says where it lives.
        """
        self.assertIsNone(dropinModule(object()))

        class Local:
            pass

        Local.__module__ = "no.such.module"
        self.assertEqual(distributionOf(Local()), "no distribution (no.such.module)")
