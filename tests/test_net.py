"""
Tests for L{txendpoints._net}: literals, host names and address text.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.trial.unittest import SynchronousTestCase

from txendpoints._net import addressFamily, formatAddress, isHostName


class AddressTests(SynchronousTestCase):
    """
    addressFamily and isHostName tell literals and names apart.
    """

    @given(
        st.one_of(
            st.ip_addresses().map(str),
            st.text(st.sampled_from("0123456789abcdefABCDEFg:.%/ \x00é٣"), max_size=45),
            st.builds(
                lambda address, at, text: address[:at] + text + address[at + 1 :],
                st.ip_addresses().map(str),
                st.integers(0, 40),
                st.sampled_from(["", ":", ".", "0", "00", "%", "%x", "::", "256"]),
            ),
            st.text(max_size=20),
        )
    )
    def test_addressFamilyLikeIpaddress(self, text: str) -> None:
        """
        L{addressFamily} answers exactly as L{ipaddress.ip_address} does,
        zones included, on this platform's C{inet_pton}.
        """
        try:
            expected: int | None = ipaddress.ip_address(text).version
        except ValueError:
            expected = None
        self.assertEqual(addressFamily(text), expected)

    def test_addressFamilyEdges(self) -> None:
        for text, family in [
            ("::ffff:1.2.3.4", 6),
            ("1:2:3:4:5:6:7::", 6),
            ("fe80::1%eth0", 6),
            ("fe80::1%a:b", 6),
            ("1.2.3.4", 4),
            ("1.2.3.04", None),
            ("::ffff:01.2.3.4", None),
            ("1:2:3:4::5:6:7:8", None),
            ("1.2.3.4%eth0", None),
            ("fe80::1%", None),
            ("fe80::1%a%b", None),
            ("fe80::1%a/b", None),
            ("::1\x00", None),
            ("\udcff", None),
            (" ::1", None),
        ]:
            self.assertEqual(addressFamily(text), family, text)

    def test_isHostName(self) -> None:
        self.assertTrue(isHostName("localhost"))
        self.assertTrue(isHostName("a-b.example.org."))
        self.assertFalse(isHostName("-a.example"))
        self.assertFalse(isHostName("a" * 64))
        self.assertFalse(isHostName("1.2.3"))
        self.assertFalse(isHostName("a..b"))


class HelperTests(SynchronousTestCase):
    def test_formatAddress(self) -> None:
        self.assertEqual(
            formatAddress(IPv4Address("TCP", "127.0.0.1", 80)), "127.0.0.1:80"
        )
        self.assertEqual(formatAddress(IPv6Address("TCP", "::1", 80)), "[::1]:80")
        self.assertEqual(formatAddress(None), "None")

    def test_formatStdioAddress(self) -> None:
        """
        A standard-I/O peer is logged as such, not as C{<PipeAddress object
        at 0x...>}.
        """
        from twisted.internet._posixstdio import PipeAddress

        self.assertEqual(formatAddress(PipeAddress()), "standard I/O")
