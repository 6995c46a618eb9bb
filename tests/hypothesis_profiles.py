"""
Hypothesis profiles, chosen with C{HYPOTHESIS_PROFILE}.

C{ci} (the default) keeps a normal run quick; C{long} is for a maintainer
who wants the grammar fuzzed properly::

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_strings_specs.py

It also runs the pathological strings of C{tests/test_strings_lookup.py}
(tens of thousands of pieces each) a hundred times as often as C{ci}.

Imported by C{conftest.py} for pytest and by the test modules that use
Hypothesis, so that trial sees the same profile.  No deadline: the machine
running the tests may be slow or busy, and timing is not what we test.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("long", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
