"""
Tests for the public names of L{txendpoints}.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

import txendpoints


class PublicNamesTests(SynchronousTestCase):
    """
    C{__all__} lists exactly the public names, and each one exists.
    """

    def test_all(self) -> None:
        public = {
            name
            for name in vars(txendpoints)
            if not name.startswith("_") and name not in ("testing",)
        }
        self.assertEqual(sorted(txendpoints.__all__), sorted(public))

    def test_sorted(self) -> None:
        self.assertEqual(list(txendpoints.__all__), sorted(txendpoints.__all__))

    def test_errorIsValueError(self) -> None:
        self.assertTrue(issubclass(txendpoints.EndpointStringError, ValueError))
