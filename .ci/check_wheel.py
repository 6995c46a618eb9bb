"""
Check an installed txendpoints wheel from outside the source tree.

Run by .ci/run in a fresh virtual environment where the wheel (and nothing
else of ours) is installed.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import zipfile


def checkWheelContents(wheel: str) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    bad = [
        n
        for n in names
        if n.endswith("dropin.cache")
        or n in ("twisted/__init__.py", "twisted/plugins/__init__.py")
    ]
    assert not bad, f"wheel ships {bad}"
    assert "twisted/plugins/txendpoints_endpoints.py" in names, names
    assert "twisted/plugins/txendpoints_relay.py" in names, names
    assert "txendpoints/py.typed" in names, names
    print("wheel contents ok")


def checkPlugins() -> None:
    import txendpoints

    here = os.path.dirname(txendpoints.__file__)
    assert "site-packages" in here, f"txendpoints imported from {here}"
    from twisted.application.service import IServiceMaker
    from twisted.internet.interfaces import (
        IStreamClientEndpointStringParserWithReactor,
        IStreamServerEndpointStringParser,
    )
    from twisted.plugin import getPlugins

    ours = ("tx-tcp4", "tx-tcp6", "tx-host", "tx-stdio")
    for interface in (
        IStreamServerEndpointStringParser,
        IStreamClientEndpointStringParserWithReactor,
    ):
        prefixes = {p.prefix for p in getPlugins(interface)}
        for wanted in ours:
            assert wanted in prefixes, f"{wanted} missing from {sorted(prefixes)}"
    services = {s.tapname for s in getPlugins(IServiceMaker)}
    assert "tx-relay" in services, sorted(services)
    print("plugins ok:", ours, "both directions; twist tx-relay")


def checkCommand() -> None:
    command = os.path.join(os.path.dirname(sys.executable), "txendpoints")
    result = subprocess.run(
        [command, "check", r"tx-tcp6:8080:interface=\:\:1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("tx-tcp6:8080:interface="), result.stdout
    print("txendpoints check ok:", result.stdout.splitlines()[-1])


def checkTwistdWeb() -> None:
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    proc = subprocess.Popen(
        [
            twistd,
            "-n",
            "--pidfile=",
            "web",
            "--listen",
            r"tx-tcp6:0:interface=\:\:1",
            "--path",
            ".",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        port = None
        seen = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = re.search(
                r"Site \(TLS\)? ?starting on (\d+)|starting on (\d+)", line
            )
            if match:
                port = int(match.group(1) or match.group(2))
                break
        assert port, "twistd did not report its port:\n" + "".join(seen)
        conn = http.client.HTTPConnection("::1", port, timeout=30)
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, (response.status, body[:200])
        print(f"twistd web on tx-tcp6 [::1]:{port} answered {response.status}")
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    checkWheelContents(sys.argv[1])
    checkPlugins()
    checkCommand()
    checkTwistdWeb()
