"""
Tests for L{txendpoints._relay._twist}: C{twist tx-relay}'s options,
which are C{txendpoints relay}'s.
"""

from __future__ import annotations

from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay import _twist
from txendpoints._relay._access import AccessPolicy, parseRule
from txendpoints._relay._options import OPTIONS, RelaySettings
from txendpoints._relay._service import RelayService
from txendpoints._relay._twist import Options, makeService

BASE = ["--listen", "tx-tcp4:0:interface=127.0.0.1", "--connect", "tcp:127.0.0.1:80"]


class OptionsTests(SynchronousTestCase):
    def test_defaults(self) -> None:
        options = Options()
        options.parseOptions(BASE)
        self.assertEqual(options["settings"], RelaySettings())

    def test_every(self) -> None:
        options = Options()
        options.parseOptions(
            [
                *BASE,
                "--idle-timeout=30",
                "--connect-retry=3",
                "--retry-delay=0.25",
                "--proxy-protocol=v1",
                "--deny=127.0.0.0/8",
                "--allow=0.0.0.0/0",
                "--deny=::1",
                "--max-per-source=2",
                "--stats=10",
            ]
        )
        self.assertEqual(
            options["settings"],
            RelaySettings(
                idleTimeout=30.0,
                connectRetry=3,
                retryDelay=0.25,
                proxyProtocol=1,
                access=AccessPolicy(
                    (
                        parseRule(False, "127.0.0.0/8"),
                        parseRule(True, "0.0.0.0/0"),
                        parseRule(False, "::1"),
                    )
                ),
                maxPerSource=2,
                statsInterval=10.0,
            ),
        )
        service = makeService(options)
        assert isinstance(service, RelayService)
        self.assertEqual(service.factory.settings, options["settings"])
        self.assertTrue(service.statsSignal)

    def test_badValue(self) -> None:
        """
        A bad value's message is ours, without usage's prefix.
        """
        for argv, message in (
            (["--idle-timeout=0"], "--idle-timeout '0' is not a number of seconds"),
            (["--allow=nowhere"], "--allow 'nowhere' is not an IP address"),
            (["--proxy-protocol=v9"], "--proxy-protocol 'v9' is not v1 or v2"),
        ):
            with self.assertRaises(UsageError) as e:
                Options().parseOptions([*BASE, *argv])
            self.assertTrue(str(e.exception).startswith(message), str(e.exception))

    def test_help(self) -> None:
        text = str(Options())
        for option in OPTIONS:
            self.assertIn(f"--{option.name}=", text)
        self.assertIn("--reactor=", text)
        self.assertIn("repeatable", text)

    def test_reactor(self) -> None:
        installed: list[str] = []
        self.patch(_twist, "installReactorNamed", installed.append)
        Options().parseOptions(["--reactor", "poll", *BASE])
        self.assertEqual(installed, ["poll"])

    def test_badReactor(self) -> None:
        with self.assertRaises(UsageError) as e:
            Options().parseOptions(["--reactor", "no-such", *BASE])
        self.assertTrue(str(e.exception).startswith("--reactor 'no-such' is not"))
