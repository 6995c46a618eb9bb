"""
Tests for L{txendpoints._errors}: our own errors.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import ConnectAttemptsError
from txendpoints._net import IPAddress

V6A = IPv6Address("TCP", "2001:db8::1", 80)
V4A = IPv4Address("TCP", "192.0.2.1", 80)


def attempts(*errors: BaseException) -> ConnectAttemptsError:
    """
    @return: The error for attempts to C{V6A}, C{V4A}, ... that failed with
        C{errors}, in turn.
    """
    addresses: list[IPAddress] = [V6A, V4A, IPv4Address("TCP", "192.0.2.2", 80)]
    return ConnectAttemptsError(
        "example.org",
        80,
        [(a, Failure(e)) for a, e in zip(addresses, errors, strict=False)],
    )


class ConnectAttemptsErrorTests(SynchronousTestCase):
    """
    L{ConnectAttemptsError} lists every attempt, and also matches the type
    of the last attempt's failure, as Twisted's endpoints would fail.
    """

    def test_matchesLastFailure(self) -> None:
        error = attempts(TimeoutError(), ConnectionRefusedError())
        self.assertIsInstance(error, ConnectAttemptsError)
        self.assertIsInstance(error, ConnectionRefusedError)
        self.assertNotIsInstance(error, TimeoutError)
        failure = Failure(error)
        self.assertIs(failure.check(ConnectionRefusedError), ConnectionRefusedError)
        self.assertIs(failure.check(ConnectAttemptsError), ConnectAttemptsError)
        self.assertEqual([a for a, f in error.failures], [V6A, V4A])
        self.assertEqual(
            str(error),
            "all 2 addresses of example.org port 80 failed: "
            "[2001:db8::1]:80: User timeout caused connection failure; "
            "192.0.2.1:80: Connection was refused by other side",
        )

    def test_classesCached(self) -> None:
        """
        One class per type of last failure, named like ours.
        """
        first = attempts(TimeoutError(), ConnectionRefusedError())
        second = attempts(ConnectionRefusedError(), ConnectionRefusedError())
        other = attempts(ConnectionRefusedError(), TimeoutError())
        self.assertIs(type(first), type(second))
        self.assertIsNot(type(first), type(other))
        self.assertIsInstance(other, TimeoutError)
        self.assertEqual(type(first).__name__, "ConnectAttemptsError")

    def test_plainWhenNothingToAdd(self) -> None:
        """
        When the last failure is a L{ConnectError} itself, the error is of
        our own class.
        """
        error = attempts(TimeoutError(), ConnectError())
        self.assertIs(type(error), ConnectAttemptsError)

    def test_otherExceptions(self) -> None:
        """
        A last failure outside Twisted's connection errors is matched where
        Python lets a class derive from both, and is left alone where it
        does not.
        """
        self.assertIsInstance(attempts(TimeoutError(), KeyError("k")), KeyError)
        self.assertIsInstance(
            attempts(TimeoutError(), DNSLookupError("x")), ConnectAttemptsError
        )
        self.assertIsInstance(
            attempts(TimeoutError(), OSError(1, "x")), ConnectAttemptsError
        )
