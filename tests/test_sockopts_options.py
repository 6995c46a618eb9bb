"""
Tests for L{txendpoints._sockopts._options}: L{TCPOptions}, its validation
and messages, and what each platform offers (L{checkFor}).
"""

from __future__ import annotations

import sys
from typing import Any
from unittest import mock

import attrs
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from txendpoints import TCPOptions
from txendpoints._sockopts import _options
from txendpoints._sockopts._options import NO_OPTIONS, OptionError, checkFor


class TCPOptionsTests(SynchronousTestCase):
    """
    L{TCPOptions} is a frozen value whose defaults leave the system alone.
    """

    def assertRefused(self, message: str, option: str, **kwargs: Any) -> None:
        with self.assertRaises(OptionError) as e:
            TCPOptions(**kwargs)
        self.assertEqual(str(e.exception), message)
        self.assertEqual(e.exception.option, option)
        self.assertIsInstance(e.exception, ValueError)

    def test_defaults(self) -> None:
        self.assertEqual(TCPOptions(), NO_OPTIONS)
        self.assertEqual(list(TCPOptions().given()), [])
        self.assertEqual(repr(TCPOptions()), "TCPOptions()")

    def test_valueSemantics(self) -> None:
        self.assertEqual(TCPOptions(noDelay=True), TCPOptions(noDelay=True))
        self.assertNotEqual(TCPOptions(noDelay=True), TCPOptions(noDelay=False))
        self.assertEqual(hash(TCPOptions(keepCount=3)), hash(TCPOptions(keepCount=3)))
        self.assertEqual(
            repr(TCPOptions(noDelay=True, bindDevice="lo")),
            "TCPOptions(noDelay=True, bindDevice='lo')",
        )
        with self.assertRaises(AttributeError):
            TCPOptions().noDelay = True  # type: ignore[misc]

    def test_timingImpliesKeepAlive(self) -> None:
        """
        Any keepalive timing turns keepalive on, so both ways of writing it
        are one value.
        """
        for name in ("keepIdle", "keepInterval", "keepCount"):
            options = TCPOptions(**{name: 5})  # type: ignore[arg-type]
            self.assertIs(options.keepAlive, True, name)
            self.assertEqual(
                options,
                TCPOptions(keepAlive=True, **{name: 5}),  # type: ignore[arg-type]
            )

    def test_timingWithKeepAliveOff(self) -> None:
        self.assertRefused(
            "keepIdle tunes keepalive, which keepAlive=no turns off",
            "keepIdle",
            keepAlive=False,
            keepIdle=60,
        )
        self.assertRefused(
            "keepCount tunes keepalive, which keepAlive=no turns off",
            "keepCount",
            keepAlive=False,
            keepCount=3,
        )

    def test_ranges(self) -> None:
        self.assertRefused(
            "keepIdle 0 is not a whole number of seconds from 1 to 32767",
            "keepIdle",
            keepIdle=0,
        )
        self.assertRefused(
            "keepInterval 1.5 is not a whole number of seconds from 1 to 32767",
            "keepInterval",
            keepInterval=1.5,
        )
        self.assertRefused(
            "keepCount 128 is not a number from 1 to 127", "keepCount", keepCount=128
        )
        self.assertRefused(
            "keepCount True is not a number from 1 to 127", "keepCount", keepCount=True
        )
        self.assertRefused(
            "userTimeout 0 is not a number of seconds above 0 and at most 2147483.647",
            "userTimeout",
            userTimeout=0,
        )
        self.assertRefused(
            "userTimeout nan is not a number of seconds above 0 and at most "
            "2147483.647",
            "userTimeout",
            userTimeout=float("nan"),
        )
        self.assertRefused(
            "receiveBuffer 0 is not a number of bytes from 1 to 2147483647",
            "receiveBuffer",
            receiveBuffer=0,
        )
        self.assertRefused(
            "sendBuffer 2147483648 is not a number of bytes from 1 to 2147483647",
            "sendBuffer",
            sendBuffer=2**31,
        )
        self.assertRefused("noDelay 1 is not a bool", "noDelay", noDelay=1)

    def test_device(self) -> None:
        self.assertEqual(TCPOptions(bindDevice="eth0").bindDevice, "eth0")
        for bad in ("", "a" * 16, "a/b", "a b", "..", "a\0"):
            with self.assertRaises(OptionError, msg=bad) as e:
                TCPOptions(bindDevice=bad)
            self.assertIn("is not a network interface name", str(e.exception))
        self.assertRefused("bindDevice 5 is not text", "bindDevice", bindDevice=5)


class CheckForTests(SynchronousTestCase):
    """
    L{checkFor} refuses what one direction or this platform cannot do.
    """

    def test_fastOpenByDirection(self) -> None:
        checkFor(TCPOptions(fastOpen=256), "server")
        checkFor(TCPOptions(fastOpen=True), "client")
        checkFor(TCPOptions(fastOpen=False), "client")
        with self.assertRaises(OptionError) as e:
            checkFor(TCPOptions(fastOpen=256), "client")
        self.assertEqual(
            str(e.exception),
            "fastOpen 256 is not yes or no: a client turns Fast Open on or off, "
            "only a server has a queue length",
        )
        with self.assertRaises(OptionError) as e:
            checkFor(TCPOptions(fastOpen=True), "server")
        self.assertEqual(
            str(e.exception),
            "fastOpen True is not a queue length: a server takes the number of "
            "pending Fast Open requests (such as 256)",
        )
        with self.assertRaises(OptionError) as e:
            checkFor(TCPOptions(fastOpen=0), "server")
        self.assertEqual(
            str(e.exception), "fastOpen 0 is not a queue length from 1 to 65535"
        )

    def test_notOptions(self) -> None:
        with self.assertRaises(TypeError) as e:
            checkFor({"noDelay": True}, "server")  # type: ignore[arg-type]
        self.assertEqual(
            str(e.exception), "options must be a txendpoints.TCPOptions, not dict"
        )

    def test_platformLacks(self) -> None:
        """
        An option whose constant the platform lacks is refused, naming the
        constant, this platform and where it works.
        """
        with mock.patch.dict(_options._CONSTANTS, {"TCP_USER_TIMEOUT": None}):
            with self.assertRaises(OptionError) as e:
                checkFor(TCPOptions(userTimeout=5), "client")
        self.assertEqual(
            str(e.exception),
            "option 'userTimeout' needs TCP_USER_TIMEOUT, which this platform "
            f"({sys.platform}) does not have; it works on Linux",
        )
        self.assertEqual((e.exception.option, e.exception.value), ("userTimeout", "5"))

    def test_platformLacksByDirection(self) -> None:
        """
        A client's Fast Open needs C{TCP_FASTOPEN_CONNECT}, a server's
        C{TCP_FASTOPEN}; turning it off needs neither.
        """
        with mock.patch.dict(_options._CONSTANTS, {"TCP_FASTOPEN_CONNECT": None}):
            checkFor(TCPOptions(fastOpen=5), "server")
            checkFor(TCPOptions(fastOpen=False), "client")
            with self.assertRaises(OptionError) as e:
                checkFor(TCPOptions(fastOpen=True), "client")
        self.assertIn("needs TCP_FASTOPEN_CONNECT", str(e.exception))
        self.assertEqual(e.exception.value, "yes")

    def test_everyOptionGated(self) -> None:
        """
        Every option names a constant that the platform table has.
        """
        for name, (server, client, onServer, onClient) in _options.PLATFORMS.items():
            self.assertIn(server, _options._CONSTANTS, name)
            self.assertIn(client, _options._CONSTANTS, name)
            self.assertTrue(onServer and onClient, name)
        self.assertEqual(
            sorted(_options.PLATFORMS),
            sorted(f.name for f in attrs.fields(TCPOptions)),
        )

    def test_linuxHasAll(self) -> None:
        if not sys.platform.startswith("linux"):
            raise SkipTest("Linux only")
        self.assertEqual([k for k, v in _options._CONSTANTS.items() if v is None], [])
