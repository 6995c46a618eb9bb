"""
Tests for L{txendpoints._relay._pipes}: the splice path's pipes.
"""

from __future__ import annotations

import errno
import os
import sys

from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay import _pipes
from txendpoints._relay._pipes import Pipe, PipePool, openPipe

MiB = 1 << 20


class PipeTests(SynchronousTestCase):
    if not sys.platform.startswith("linux"):
        skip = "the splice path is Linux only"

    def pipe(self) -> Pipe:
        pipe = openPipe()
        self.addCleanup(lambda: pipe.close() if _isOpen(pipe) else None)
        return pipe

    def test_default(self) -> None:
        """
        A new pipe is non-blocking, of the system's default size.
        """
        pipe = self.pipe()
        self.assertFalse(os.get_blocking(pipe.writeEnd))
        self.assertFalse(os.get_blocking(pipe.readEnd))
        self.assertGreaterEqual(pipe.size, 4096)
        self.assertLess(pipe.size, MiB)

    def test_grow(self) -> None:
        pipe = self.pipe()
        self.assertTrue(pipe.grow(MiB))
        self.assertEqual(pipe.size, MiB)
        self.assertFalse(pipe.grow(MiB))

    def test_growRefused(self) -> None:
        """
        A size the system refuses leaves the pipe as it was.
        """
        pipe = self.pipe()
        size = pipe.size
        self.assertFalse(pipe.grow(2**31 - 1))
        self.assertEqual(pipe.size, size)

    def test_isEmpty(self) -> None:
        pipe = self.pipe()
        self.assertTrue(pipe.isEmpty())
        os.write(pipe.writeEnd, b"x")
        self.assertFalse(pipe.isEmpty())

    def test_openFails(self) -> None:
        def fail(flags: int) -> tuple[int, int]:
            raise OSError(errno.EMFILE, "Too many open files")

        self.patch(os, "pipe2", fail)
        self.assertRaises(OSError, openPipe)


def _isOpen(pipe: Pipe) -> bool:
    try:
        os.fstat(pipe.readEnd)
    except OSError:
        return False
    return True


class PipePoolTests(SynchronousTestCase):
    if not sys.platform.startswith("linux"):
        skip = "the splice path is Linux only"

    def test_reuse(self) -> None:
        """
        An empty pipe given back is taken again, instead of a new one.
        """
        pool = PipePool()
        self.addCleanup(pool.close)
        pipe = pool.take()
        pool.give(pipe)
        self.assertIs(pool.take(), pipe)
        pool.give(pipe)

    def test_notEmpty(self) -> None:
        """
        A pipe that holds bytes is closed, not kept.
        """
        pool = PipePool()
        pipe = pool.take()
        os.write(pipe.writeEnd, b"left over")
        pool.give(pipe)
        self.assertFalse(_isOpen(pipe))
        self.assertIsNot(pool.take(), pipe)

    def test_keep(self) -> None:
        """
        Past C{keep} pipes, one given back is closed.
        """
        pool = PipePool(keep=1)
        self.addCleanup(pool.close)
        first, second = pool.take(), pool.take()
        pool.give(first)
        pool.give(second)
        self.assertTrue(_isOpen(first))
        self.assertFalse(_isOpen(second))

    def test_grow(self) -> None:
        """
        The pool grows a smaller pipe to its size, and no further.
        """
        pool = PipePool(size=256 * 1024)
        pipe = pool.take()
        self.addCleanup(pipe.close)
        self.assertTrue(pool.grow(pipe))
        self.assertEqual(pipe.size, 256 * 1024)
        self.assertFalse(pool.grow(pipe))

    def test_close(self) -> None:
        pool = PipePool()
        pipe = pool.take()
        pool.give(pipe)
        pool.close()
        self.assertFalse(_isOpen(pipe))
        self.assertEqual(pool._free, [])

    def test_defaults(self) -> None:
        pool = PipePool()
        self.assertEqual((pool.size, pool.keep), (_pipes.PIPE_SIZE, _pipes.KEEP))
        self.assertEqual(_pipes.PIPE_SIZE, MiB)
