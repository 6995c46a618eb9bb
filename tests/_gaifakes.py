"""
Twisted's default resolver, L{GAIResolver}, over a fake C{getaddrinfo}: in a
thread pool that runs its work at once, or in real threads whose answers the
test delivers; no test sends a query to a real server.
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet._resolver import GAIResolver
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from txendpoints.testing import SimulatedNetwork


class FakeGetaddrinfo:
    """
    A C{getaddrinfo} with fixed answers that records every call (each one
    a query the system would send, for a name not in the hosts file).

    @ivar calls: C{(host, family)} of every call, in order.
    @ivar hang: Families whose lookups block until L{release}.
    """

    def __init__(self, answers: dict[str, list[str]], hang: tuple[int, ...] = ()):
        self.answers = answers
        self.hang = hang
        self.calls: list[tuple[str, int]] = []
        self._released = threading.Event()
        self._lock = threading.Lock()

    def release(self) -> None:
        self._released.set()

    def __call__(
        self, host: str, port: int, family: int = 0, socktype: int = 0, *a: Any
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            self.calls.append((host, family))
        if family in self.hang:
            self._released.wait()
            return []
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result = []
        for literal in self.answers[host]:
            answerFamily = socket.AF_INET6 if ":" in literal else socket.AF_INET
            if family in (socket.AF_UNSPEC, answerFamily):
                sockaddr: tuple[Any, ...] = (
                    (literal, port, 0, 0) if ":" in literal else (literal, port)
                )
                result.append((answerFamily, socktype, 6, "", sockaddr))
        return result


class SyncPool:
    """
    A thread pool that runs its work at once, in the calling thread.
    """

    max = 10

    def callInThreadWithCallback(
        self,
        onResult: Callable[[bool, object], object],
        f: Callable[..., Any],
        *a: Any,
        **kw: Any,
    ) -> None:
        try:
            result = f(*a, **kw)
        except BaseException:
            onResult(False, Failure())
        else:
            onResult(True, result)


class GAINetwork(SimulatedNetwork):
    """
    A L{SimulatedNetwork} whose name resolver is Twisted's default over a
    fake C{getaddrinfo}, in a given thread pool.
    """

    def __init__(self, getaddrinfo: FakeGetaddrinfo, pool: Any = None, **kw: Any):
        super().__init__(**kw)
        self.pool = SyncPool() if pool is None else pool
        self.fromThreads: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            queue.Queue()
        )
        self._sync = pool is None
        self.installNameResolver(
            GAIResolver(self, self.getThreadPool, getaddrinfo)  # type: ignore[arg-type]
        )

    def getThreadPool(self) -> Any:
        return self.pool

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kw: Any) -> None:
        if self._sync:
            f(*args, **kw)
        else:
            self.fromThreads.put((lambda: f(*args, **kw), ()))

    def deliver(self, count: int, limit: float = 20.0) -> None:
        """
        Run C{count} calls that threads made, in this thread, waiting for
        each at most C{limit} seconds.

        @raise queue.Empty: If one did not come in time.
        """
        for _ in range(count):
            f, _args = self.fromThreads.get(timeout=limit)
            f()


def realPool(size: int = 10) -> ThreadPool:
    """
    A started thread pool of C{size} threads.
    """
    pool = ThreadPool(0, size, "txendpoints-test")
    pool.start()
    return pool
