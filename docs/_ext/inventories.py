"""
Intersphinx inventories for Python and Twisted, made on this machine.

The docs build must work offline, so instead of downloading C{objects.inv}
from docs.python.org and docs.twisted.org we write equivalent files:

  - Twisted's, by running pydoctor (which builds Twisted's real API docs)
    with C{--make-intersphinx} over the installed Twisted.  The URLs are
    the ones pydoctor gives every object, relative to Twisted's published
    API reference.
  - Python's, by introspecting the builtins and a list of standard-library
    modules, using the page layout of docs.python.org (one page per module,
    an anchor per qualified name).

Both are cached under C{docs/_build/inventories}, keyed by version.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import subprocess
import sys
import zlib
from pathlib import Path

import twisted

PYTHON_URL = "https://docs.python.org/3/"
TWISTED_URL = "https://docs.twisted.org/en/stable/api/"

# Standard-library modules whose names our docstrings (or Twisted's users)
# are likely to mention.  A name outside these stays an unresolved link,
# which the -W build reports, so the list grows when a docstring needs it.
STDLIB_MODULES = (
    "abc",
    "argparse",
    "array",
    "asyncio",
    "codecs",
    "collections",
    "collections.abc",
    "contextlib",
    "dataclasses",
    "difflib",
    "doctest",
    "enum",
    "errno",
    "fcntl",
    "functools",
    "hashlib",
    "http.client",
    "importlib",
    "importlib.metadata",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "logging",
    "math",
    "operator",
    "os",
    "os.path",
    "pathlib",
    "re",
    "resource",
    "select",
    "selectors",
    "shutil",
    "signal",
    "socket",
    "ssl",
    "string",
    "struct",
    "subprocess",
    "sys",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "traceback",
    "types",
    "typing",
    "unittest",
    "urllib.parse",
    "uuid",
    "warnings",
    "weakref",
    "zlib",
)

_CONSTANTS = {"None", "True", "False", "Ellipsis", "NotImplemented", "__debug__"}
# Built-in types documented in "Built-in Types" rather than "Built-in
# Functions".
_STDTYPES = {
    "bool",
    "bytearray",
    "bytes",
    "dict",
    "frozenset",
    "list",
    "memoryview",
    "range",
    "set",
    "str",
    "tuple",
}


def _builtinEntries() -> list[tuple[str, str, str]]:
    entries = []
    for name in dir(builtins):
        if name.startswith("_") and name != "__debug__":
            continue
        obj = getattr(builtins, name)
        if name in _CONSTANTS:
            entries.append((name, "py:data", "library/constants.html#$"))
        elif isinstance(obj, type) and issubclass(obj, BaseException):
            entries.append((name, "py:exception", "library/exceptions.html#$"))
        elif name in _STDTYPES:
            entries.append((name, "py:class", "library/stdtypes.html#$"))
        elif isinstance(obj, type):
            entries.append((name, "py:class", "library/functions.html#$"))
        elif callable(obj):
            entries.append((name, "py:function", "library/functions.html#$"))
    return entries


def _role(obj: object) -> str:
    if isinstance(obj, type):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if inspect.isroutine(obj):
        return "py:function"
    return "py:data"


def _moduleEntries(moduleName: str) -> list[tuple[str, str, str]]:
    try:
        module = importlib.import_module(moduleName)
    except ImportError:
        return []
    page = f"library/{moduleName}.html"
    entries = [(moduleName, "py:module", f"{page}#module-$")]
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            continue
        qualified = f"{moduleName}.{name}"
        entries.append((qualified, _role(obj), f"{page}#$"))
        if isinstance(obj, type):
            for member, value in vars(obj).items():
                if member.startswith("_"):
                    continue
                role = "py:method" if inspect.isroutine(value) else "py:attribute"
                entries.append((f"{qualified}.{member}", role, f"{page}#$"))
    return entries


def writeInventory(
    path: Path, project: str, version: str, entries: list[tuple[str, str, str]]
) -> None:
    """
    Write a Sphinx version 2 inventory.

    @param path: Where to write it.
    @param project: The project name in the header.
    @param version: The version in the header.
    @param entries: C{(name, domain:role, uri)} triples; C{$} in a URI
        stands for the name.
    """
    seen = set()
    body = []
    for name, role, uri in entries:
        if (name, role) in seen:
            continue
        seen.add((name, role))
        body.append(f"{name} {role} 1 {uri} -\n")
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(
        header.encode("utf-8") + zlib.compress("".join(body).encode("utf-8"))
    )
    tmp.replace(path)


def pythonInventory(cache: Path) -> Path:
    """
    The Python standard-library inventory, made if not cached.

    @param cache: The cache directory.
    @return: The inventory's path.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    path = cache / f"python-{version}.inv"
    if not path.exists():
        entries = _builtinEntries()
        for moduleName in STDLIB_MODULES:
            entries += _moduleEntries(moduleName)
        writeInventory(path, "Python", version, entries)
    return path


def twistedInventory(cache: Path) -> Path:
    """
    Twisted's inventory, made with pydoctor if not cached (a minute or
    two, silent, so it is announced first).

    @param cache: The cache directory.
    @return: The inventory's path.
    @raise subprocess.CalledProcessError: If pydoctor fails.
    """
    version = twisted.__version__
    path = cache / f"twisted-{version}.inv"
    if not path.exists():
        out = cache / f"twisted-{version}"
        print(
            f"building Twisted {version}'s API inventory with pydoctor, once: "
            f"this takes a minute or two without output (cached in {cache})",
            file=sys.stderr,
            flush=True,
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pydoctor",
                "--make-intersphinx",
                "--project-name=Twisted",
                f"--project-version={version}",
                f"--html-output={out}",
                "--quiet",
                "--quiet",
                str(Path(twisted.__file__).parent),
            ],
            check=True,
            # Twisted's own docstring warnings are not ours to fix.
            stdout=subprocess.DEVNULL,
        )
        (out / "objects.inv").replace(path)
        out.rmdir()
    return path
