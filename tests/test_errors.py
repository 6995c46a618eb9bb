"""
Tests for L{txendpoints._errors}: our own errors.
"""

from __future__ import annotations

import copy
import pickle
import traceback
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txendpoints import ConnectAttemptsError, EndpointStringError
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


class RoundTripTests(SynchronousTestCase):
    """
    Our errors pickle and copy with their attributes, and name
    C{txendpoints} as their module, as tracebacks and logs show them.
    """

    def roundTrips(self, error: Exception) -> list[Any]:
        return [
            pickle.loads(pickle.dumps(error)),
            copy.copy(error),
            copy.deepcopy(error),
        ]

    def test_endpointStringError(self) -> None:
        error = EndpointStringError(
            "tx-tcp6", "option 'backlg' is unknown", "backlg", "5"
        )
        for again in self.roundTrips(error):
            self.assertIs(type(again), EndpointStringError)
            self.assertEqual(str(again), "tx-tcp6: option 'backlg' is unknown")
            self.assertEqual(
                (again.prefix, again.option, again.value), ("tx-tcp6", "backlg", "5")
            )
        self.assertEqual(EndpointStringError.__module__, "txendpoints")

    def test_labelledEndpointStringError(self) -> None:
        """
        A message added to after the error was made (the relay's label, a
        hint) survives the round trip as it is.
        """
        error = EndpointStringError("tx-tcp4", "port 'x' is bad", "port", "x")
        error.args = ("LISTEN: tx-tcp4: port 'x' is bad; a hint",)
        for again in self.roundTrips(error):
            self.assertEqual(str(again), "LISTEN: tx-tcp4: port 'x' is bad; a hint")
            self.assertEqual(again.value, "x")

    def test_connectAttemptsError(self) -> None:
        error = attempts(TimeoutError(), ConnectionRefusedError())
        for again in self.roundTrips(error):
            self.assertIs(type(again), type(error))
            self.assertIsInstance(again, ConnectionRefusedError)
            self.assertEqual(str(again), str(error))
            self.assertEqual((again.host, again.port), ("example.org", 80))
            self.assertEqual(
                [(a, f.type) for a, f in again.failures],
                [(V6A, TimeoutError), (V4A, ConnectionRefusedError)],
            )
        self.assertEqual(ConnectAttemptsError.__module__, "txendpoints")
        self.assertEqual(type(error).__module__, "txendpoints")
        plain = attempts(TimeoutError(), ConnectError())
        self.assertIs(type(pickle.loads(pickle.dumps(plain))), ConnectAttemptsError)

    def test_traceback(self) -> None:
        """
        A traceback names the error by its public name.
        """
        text = "".join(
            traceback.format_exception_only(EndpointStringError("tx-tcp4", "bad"))
        )
        self.assertEqual(text, "txendpoints.EndpointStringError: tx-tcp4: bad\n")
