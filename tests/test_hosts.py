"""
Tests for L{txendpoints._hosts}: the hosts file and the localhost names.
"""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from txendpoints import _hosts
from txendpoints._hosts import HostsFile, LocalNames, hasLoopback, isLocalhost


def _hostsFile(case: SynchronousTestCase, text: str) -> str:
    path = case.mktemp()
    with open(path, "w") as f:
        f.write(text)
    return path


class HostsFileTests(SynchronousTestCase):
    """
    L{HostsFile} reads hosts(5) as the system does, again when it changes.
    """

    def test_lookup(self) -> None:
        path = _hostsFile(
            self,
            "# comment\n127.0.0.1 localhost\n192.0.2.7\tV4only.test alias # end\n"
            "fe80::1%lo linklocal.test\nnot-an-address bogus.test\n"
            "192.0.2.8 v4only.test\n",
        )
        hosts = HostsFile(path)
        self.assertEqual(hosts.lookup("v4only.test"), ["192.0.2.7", "192.0.2.8"])
        self.assertEqual(hosts.lookup("ALIAS."), ["192.0.2.7"])
        self.assertEqual(hosts.lookup("linklocal.test"), ["fe80::1%lo"])
        self.assertIsNone(hosts.lookup("bogus.test"))
        self.assertIsNone(hosts.lookup("comment"))

    def test_rereadWhenChanged(self) -> None:
        path = _hostsFile(self, "192.0.2.7 a.test\n")
        hosts = HostsFile(path)
        self.assertEqual(hosts.lookup("a.test"), ["192.0.2.7"])
        with open(path, "w") as f:
            f.write("192.0.2.9 a.test b.test\n")
        os.utime(path, ns=(1, 1))
        self.assertEqual(hosts.lookup("b.test"), ["192.0.2.9"])
        os.remove(path)
        self.assertIsNone(hosts.lookup("a.test"))

    def test_hasLoopback(self) -> None:
        self.assertTrue(hasLoopback("127.0.0.1"))
        self.assertFalse(hasLoopback("192.0.2.1"))

    def test_localhost(self) -> None:
        for name in ["localhost", "LOCALHOST.", "db.localhost", "a.b.localhost"]:
            self.assertTrue(isLocalhost(name), name)
        for name in ["localhost.example", "notlocalhost", "localhost-1"]:
            self.assertFalse(isLocalhost(name), name)


class LocalNamesTests(SynchronousTestCase):
    """
    L{LocalNames} answers the localhost names before the hosts file.
    """

    def test_localhostFirst(self) -> None:
        self.patch(_hosts, "hasLoopback", lambda literal: True)
        names = LocalNames(_hostsFile(self, "192.0.2.1 localhost\n192.0.2.7 a.test\n"))
        self.assertEqual(names.lookup("localhost"), ["::1", "127.0.0.1"])
        self.assertEqual(names.lookup("a.test"), ["192.0.2.7"])
        self.assertIsNone(names.lookup("b.test"))

    def test_noIPv6(self) -> None:
        self.patch(_hosts, "hasLoopback", lambda literal: ":" not in literal)
        self.assertEqual(
            LocalNames("/nonexistent").lookup("x.localhost"), ["127.0.0.1"]
        )
