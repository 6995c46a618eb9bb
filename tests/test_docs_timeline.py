"""
Tests for the documentation's timeline picture, C{docs/_ext/timeline.py}:
it runs the engine itself and draws what happened.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

_PATH = Path(__file__).resolve().parent.parent / "docs" / "_ext" / "timeline.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_docs_timeline", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks the module up while the classes are made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


timeline = _load()


class TimelineTests(SynchronousTestCase):
    def race(self, **extra: str) -> Any:
        options = {
            "answers": "2001:db8::1 2001:db8::2 192.0.2.1",
            "a": "0.010",
            "aaaa": "0.030",
            "accept": "192.0.2.1=0.015",
            **extra,
        }
        return timeline.simulate(**timeline.parseOptions(options))

    def test_simulated(self) -> None:
        """
        The bars are the engine's own attempts: the dead IPv6 address from
        the AAAA answer until the IPv4 address connects one attempt delay
        later, when it is stopped.
        """
        race = self.race()
        self.assertEqual(
            [
                (b.address, round(b.start, 3), round(b.end, 3), b.result)
                for b in race.bars
            ],
            [
                ("2001:db8::1", 0.03, 0.295, "stopped"),
                ("192.0.2.1", 0.28, 0.295, "connected"),
            ],
        )

    def test_refused(self) -> None:
        race = self.race(refuse="2001:db8::1=0.001")
        self.assertEqual(
            [(b.address, round(b.start, 3), b.result) for b in race.bars],
            [("2001:db8::1", 0.03, "refused"), ("192.0.2.1", 0.031, "connected")],
        )

    def test_svg(self) -> None:
        """
        One row per address, one bar per attempt, the answers and the
        resolution delay marked, the attempt-delay tick drawn; the same
        race gives the same picture.
        """
        svg = timeline.render(self.race())
        self.assertTrue(svg.startswith("<svg "))
        for text in [
            ">2001:db8::1<",
            ">2001:db8::2<",
            ">192.0.2.1<",
            "A answer (10 ms)",
            "AAAA answer (30 ms)",
            "resolutionDelay 50 ms",
            "1: stopped",
            "2: connected",
            "not tried",
            "tick: 250 ms (attemptDelay)",
        ]:
            self.assertIn(text, svg)
        self.assertEqual(svg.count("<rect x="), 3)
        self.assertEqual(svg, timeline.render(self.race()))

    def test_options(self) -> None:
        race = self.race(options="attemptDelay=0.1")
        self.assertEqual(round(race.bars[1].start, 3), 0.13)
