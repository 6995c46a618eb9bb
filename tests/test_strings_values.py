"""
Tests for L{txendpoints._strings._values}: the kinds of option value.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from txendpoints._strings import _values
from txendpoints._strings._values import (
    BACKLOG,
    BOOLEAN,
    DURATION,
    FD,
    PORT,
    BindAddress,
    Host,
    InvalidValue,
    Kind,
)


def slowdown(parse: Callable[[str], object], short: str, long: str) -> float:
    """
    How many times more time per character C{parse} takes on C{long} than
    on C{short}: about 1 (or less) if its cost is linear, whatever the
    machine's speed.  Each is the best of five runs.
    """

    def perCharacter(text: str, repeat: int) -> float:
        best = math.inf
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeat):
                try:
                    parse(text)
                except InvalidValue:
                    pass
            best = min(best, time.perf_counter() - start)
        return best / (repeat * len(text))

    return perCharacter(long, 1) / perCharacter(short, len(long) // len(short))


class KindTests(SynchronousTestCase):
    """
    Each option type accepts what it should and says why it refuses the rest.
    """

    def test_port(self) -> None:
        self.assertEqual(PORT.parse("0"), 0)
        self.assertEqual(PORT.parse("65535"), 65535)
        for bad in ("65536", "-1", "http", "", " 80", "8.0", "0x50", "٣"):
            with self.assertRaises(InvalidValue) as e:
                PORT.parse(bad)
            self.assertEqual(e.exception.reason, "is not a number from 0 to 65535")

    def test_backlog(self) -> None:
        self.assertEqual(BACKLOG.parse("1"), 1)
        with self.assertRaises(InvalidValue) as e:
            BACKLOG.parse("0")
        self.assertEqual(e.exception.reason, "is not a number from 1 to 65535")

    def test_fd(self) -> None:
        self.assertEqual(FD.parse("3"), 3)
        with self.assertRaises(InvalidValue) as e:
            FD.parse("-1")
        self.assertEqual(
            e.exception.reason, "is not a file descriptor number (0 or more)"
        )

    def test_duration(self) -> None:
        self.assertEqual(DURATION.parse("0.25"), 0.25)
        self.assertEqual(DURATION.parse("30"), 30.0)
        self.assertEqual(DURATION.parse(".5"), 0.5)
        self.assertEqual(DURATION.format(30.0), "30")
        self.assertEqual(DURATION.format(0.25), "0.25")
        for bad in ("-1", "inf", "nan", "1e3", "", "abc", "1.2.3"):
            with self.assertRaises(InvalidValue) as e:
                DURATION.parse(bad)
            self.assertEqual(
                e.exception.reason, "is not a number of seconds (0 or more)"
            )

    def test_boolean(self) -> None:
        for text in ("yes", "true", "1", "YES", "True"):
            self.assertIs(BOOLEAN.parse(text), True)
        for text in ("no", "false", "0", "No"):
            self.assertIs(BOOLEAN.parse(text), False)
        with self.assertRaises(InvalidValue) as e:
            BOOLEAN.parse("maybe")
        self.assertEqual(e.exception.reason, "is not one of yes, no, true, false, 1, 0")
        self.assertEqual(BOOLEAN.format(True), "yes")
        self.assertEqual(BOOLEAN.format(False), "no")

    def test_hostFamilies(self) -> None:
        self.assertEqual(Host(family=6).parse("::1"), "::1")
        self.assertEqual(Host(family=6).parse("[::1]"), "::1")
        self.assertEqual(Host(family=6).parse("fe80::1%lo"), "fe80::1%lo")
        self.assertEqual(Host(family=4).parse("127.0.0.1"), "127.0.0.1")
        with self.assertRaises(InvalidValue) as e:
            Host(family=6).parse("127.0.0.1")
        self.assertEqual(
            e.exception.reason,
            "is an IPv4 address, but this endpoint needs an IPv6 address",
        )
        with self.assertRaises(InvalidValue) as e:
            Host(family=4, names=False).parse("localhost")
        self.assertEqual(e.exception.reason, "is not an IPv4 address")

    def test_hostNames(self) -> None:
        self.assertEqual(Host().parse("example.org"), "example.org")
        self.assertEqual(Host().parse("bücher.example"), "bücher.example")
        with self.assertRaises(InvalidValue) as e:
            Host().parse("bad name")
        self.assertEqual(e.exception.reason, "is neither a host name nor an IP address")
        with self.assertRaises(InvalidValue) as e:
            Host().parse("")
        self.assertEqual(e.exception.reason, "is empty")
        self.assertEqual(Host(empty=True).parse(""), "")


class CostTests(SynchronousTestCase):
    """
    Every kind rejects text in time linear in its length.
    """

    def test_linear(self) -> None:
        kinds: list[Kind[Any]] = [
            PORT,
            FD,
            DURATION,
            BOOLEAN,
            Host(),
            Host(6),
            BindAddress(),
        ]
        shapes = ["9{}x", "9{}", "0{}1", "1.{}x", "{}é", "a.{}", "[{}]:1", "-{}"]
        for kind in kinds:
            for shape in shapes:
                short, long = (shape.format("9" * n) for n in (1_000, 10_000))
                self.assertLess(slowdown(kind.parse, short, long), 5, f"{kind} {shape}")

    def test_longLabel(self) -> None:
        """
        Text with a label longer than DNS allows is no host name, and IDNA
        (whose punycode costs time quadratic in a label's length) is not
        asked about it.
        """

        def noIDNA(text: str) -> bool:
            self.fail(f"isHostName asked about {len(text)} characters")

        label = "".join(chr(0x4E00 + i) for i in range(64))
        self.patch(_values, "isHostName", noIDNA)
        for text in [label, f"a.{label}.b", label * 100, "a." * 200]:
            with self.assertRaises(InvalidValue) as e:
                Host().parse(text)
            self.assertEqual(
                e.exception.reason, "is neither a host name nor an IP address"
            )

    def test_longestName(self) -> None:
        """
        Names as long as DNS allows are still names, Unicode ones included.
        """
        name = ".".join(["a" * 63] * 3 + ["b" * 61])
        self.assertEqual(Host().parse(name), name)
        self.assertEqual(Host().parse(name + "."), name + ".")
        self.assertEqual(Host().parse("ü" * 57 + ".de"), "ü" * 57 + ".de")


class HugeNumberTests(SynchronousTestCase):
    """
    Numbers of more digits than Python's C{int()} takes (4,300 by default)
    are out of range, not a bare C{ValueError}.
    """

    def test_integers(self) -> None:
        for kind in [PORT, BACKLOG, FD]:
            with self.assertRaises(InvalidValue) as usual:
                kind.parse("x")
            for text in ["9" * 5_000, "1" * 100_000]:
                with self.assertRaises(InvalidValue) as e:
                    kind.parse(text)
                self.assertEqual(e.exception.reason, usual.exception.reason)

    def test_leadingZeros(self) -> None:
        """
        Leading zeros count for nothing, however many there are.
        """
        self.assertEqual(PORT.parse("0" * 5_000 + "80"), 80)
        self.assertEqual(FD.parse("0" * 5_000), 0)

    def test_durations(self) -> None:
        self.assertEqual(
            DURATION.parse("0" * 5_000 + "1." + "5" * 5_000), 1.5555555555555556
        )
        with self.assertRaises(InvalidValue):
            DURATION.parse("9" * 5_000)
