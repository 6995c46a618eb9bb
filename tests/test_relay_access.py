"""
Tests for L{txendpoints._relay._access}: C{--allow}, C{--deny} and the
source address of a client.
"""

from __future__ import annotations

import ipaddress

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._relay._access import AccessPolicy, Rule, parseRule, sourceAddress


def v4(host: str) -> IPv4Address:
    return IPv4Address("TCP", host, 1234)


def v6(host: str) -> IPv6Address:
    return IPv6Address("TCP", host, 1234)


class SourceAddressTests(SynchronousTestCase):
    def test_ipv4(self) -> None:
        self.assertEqual(
            sourceAddress(v4("192.0.2.1")), ipaddress.ip_address("192.0.2.1")
        )

    def test_ipv6WithZone(self) -> None:
        self.assertEqual(
            sourceAddress(v6("fe80::1%eth0")), ipaddress.ip_address("fe80::1")
        )

    def test_mappedIsIPv4(self) -> None:
        self.assertEqual(
            sourceAddress(v6("::ffff:192.0.2.1")), ipaddress.ip_address("192.0.2.1")
        )

    def test_notIP(self) -> None:
        self.assertIsNone(sourceAddress(UNIXAddress(b"/tmp/s")))
        self.assertIsNone(sourceAddress(None))
        self.assertIsNone(sourceAddress(v4("not an address")))


class ParseRuleTests(SynchronousTestCase):
    def test_network(self) -> None:
        rule = parseRule(True, "10.0.0.0/8")
        self.assertEqual(rule, Rule(True, ipaddress.ip_network("10.0.0.0/8")))
        self.assertEqual(str(rule), "--allow 10.0.0.0/8")

    def test_address(self) -> None:
        self.assertEqual(str(parseRule(False, "::1")), "--deny ::1/128")

    def test_hostBitsDropped(self) -> None:
        self.assertEqual(str(parseRule(False, "192.0.2.77/24")), "--deny 192.0.2.0/24")

    def test_mappedNetworkIsIPv4(self) -> None:
        """
        A rule written as IPv4-mapped IPv6 matches the IPv4 clients it
        names, which are matched as IPv4.
        """
        self.assertEqual(
            str(parseRule(True, "::ffff:10.0.0.0/104")), "--allow 10.0.0.0/8"
        )
        self.assertEqual(str(parseRule(True, "::ffff:0:0/96")), "--allow 0.0.0.0/0")
        # Wider than the mapped range: left as IPv6.
        self.assertEqual(str(parseRule(True, "::/0")), "--allow ::/0")

    def test_bad(self) -> None:
        for text in ("10.0.0.0/33", "example.org", ""):
            with self.assertRaises(ValueError) as e:
                parseRule(True, text)
            self.assertEqual(
                str(e.exception),
                f"--allow {text!r} is not an IP address or network "
                "(such as 192.0.2.0/24 or 2001:db8::/32)",
            )
        with self.assertRaises(ValueError) as e:
            parseRule(False, "x")
        self.assertTrue(str(e.exception).startswith("--deny 'x' "))


def policy(*rules: str) -> AccessPolicy:
    return AccessPolicy(tuple(parseRule(r.startswith("+"), r[1:]) for r in rules))


class PolicyTests(SynchronousTestCase):
    def test_noRules(self) -> None:
        self.assertIsNone(AccessPolicy().refusal(v4("192.0.2.1")))
        self.assertIsNone(AccessPolicy().refusal(None))

    def test_denyOnly(self) -> None:
        rules = policy("-127.0.0.0/8")
        self.assertEqual(rules.refusal(v4("127.0.0.1")), "--deny 127.0.0.0/8")
        self.assertIsNone(rules.refusal(v6("::1")))

    def test_allowOnly(self) -> None:
        rules = policy("+::1")
        self.assertIsNone(rules.refusal(v6("::1")))
        self.assertEqual(rules.refusal(v4("127.0.0.1")), "no --allow rule matches")

    def test_firstMatchDecides(self) -> None:
        rules = policy("-10.1.0.0/16", "+10.0.0.0/8")
        self.assertEqual(rules.refusal(v4("10.1.2.3")), "--deny 10.1.0.0/16")
        self.assertIsNone(rules.refusal(v4("10.2.0.1")))
        rules = policy("+10.0.0.0/8", "-10.1.0.0/16")
        self.assertIsNone(rules.refusal(v4("10.1.2.3")))

    def test_mappedPeerMatchedAsIPv4(self) -> None:
        rules = policy("-192.0.2.0/24")
        self.assertEqual(rules.refusal(v6("::ffff:192.0.2.9")), "--deny 192.0.2.0/24")

    def test_familiesDoNotMix(self) -> None:
        self.assertIsNone(policy("-::/0").refusal(v4("192.0.2.1")))
        self.assertIsNone(policy("-0.0.0.0/0").refusal(v6("2001:db8::1")))

    def test_notIPPeer(self) -> None:
        """
        A peer without an IP address matches no rule: refused only when
        there is an allow list.
        """
        self.assertIsNone(policy("-0.0.0.0/0").refusal(UNIXAddress(b"/s")))
        self.assertEqual(
            policy("+0.0.0.0/0").refusal(UNIXAddress(b"/s")),
            "no --allow rule matches a peer without an IP address",
        )
