"""
The pipes of the splice path (L{txendpoints._relay._splice}): opened
small, grown when a stream fills one, and kept for the next connection
once empty, so that a short connection costs no pipe system calls at all.

It may import Twisted only, as L{txendpoints._relay._splice} does.
"""

from __future__ import annotations

import os

#: The size a pipe is grown to once it fills: as much as an unprivileged
#: process may have by default (C{/proc/sys/fs/pipe-max-size}).
PIPE_SIZE = 1 << 20

#: How many empty pipes a pool keeps: two per connection, so enough for a
#: few dozen connections coming and going at once.
KEEP = 64


class Pipe:
    """
    A non-blocking pipe.

    @ivar readEnd: Its read end.
    @ivar writeEnd: Its write end.
    @ivar size: Its size, in bytes.
    """

    def __init__(self, readEnd: int, writeEnd: int, size: int) -> None:
        self.readEnd = readEnd
        self.writeEnd = writeEnd
        self.size = size

    def grow(self, size: int) -> bool:
        """
        Ask for C{size} bytes.

        @return: Whether the pipe grew.
        """
        import fcntl

        try:
            got = fcntl.fcntl(self.writeEnd, fcntl.F_SETPIPE_SZ, size)
        except (OSError, AttributeError):
            # EPERM past the user's pipe-user-pages-soft: it stays as it is.
            return False
        grew, self.size = got > self.size, got
        return grew

    def isEmpty(self) -> bool:
        """
        @return: Whether nothing is left to read in the pipe.
        """
        import fcntl
        import termios

        count = bytearray(4)
        fcntl.ioctl(self.readEnd, termios.FIONREAD, count)
        return int.from_bytes(count, "little") == 0

    def close(self) -> None:
        os.close(self.readEnd)
        os.close(self.writeEnd)


def openPipe() -> Pipe:
    """
    Open a pipe of the system's default size.

    @raise OSError: If no pipe can be opened (too many descriptors, for
        one).
    """
    import fcntl  # POSIX only, as is the splice path

    readEnd, writeEnd = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        size = fcntl.fcntl(writeEnd, fcntl.F_GETPIPE_SZ)
    except (OSError, AttributeError):
        size = 65536
    return Pipe(readEnd, writeEnd, size)


class PipePool:
    """
    Pipes for splice pumps, reused.

    @ivar size: What a full pipe is grown to.
    @ivar keep: How many empty pipes to keep.
    """

    def __init__(self, size: int = PIPE_SIZE, keep: int = KEEP) -> None:
        self.size = size
        self.keep = keep
        self._free: list[Pipe] = []

    def take(self) -> Pipe:
        """
        @return: A kept pipe, or a new one.
        @raise OSError: If a new one cannot be opened.
        """
        return self._free.pop() if self._free else openPipe()

    def give(self, pipe: Pipe) -> None:
        """
        Keep C{pipe} for later if it is empty and there is room, or close it.
        """
        if len(self._free) < self.keep and pipe.isEmpty():
            self._free.append(pipe)
        else:
            pipe.close()

    def grow(self, pipe: Pipe) -> bool:
        """
        Grow a pipe that filled up to L{size}, if it is smaller.

        @return: Whether it grew.
        """
        return pipe.size < self.size and pipe.grow(self.size)

    def close(self) -> None:
        """
        Close every kept pipe.
        """
        free, self._free = self._free, []
        for pipe in free:
            pipe.close()
