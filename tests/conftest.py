"""
pytest configuration: load the Hypothesis profile before any test runs.
"""

from tests import hypothesis_profiles  # noqa: F401
