"""
The shape of the package, read from its source with L{ast}: dependencies
run one way, there is no import cycle (an import under C{TYPE_CHECKING} or
inside a function counts), every private Twisted name is imported in one
module only and says why, no module passes 400 lines, each module's
docstring says what it may import, and each module has its test file.
"""

from __future__ import annotations

import ast
import tempfile
from collections.abc import Iterator
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

import txendpoints

PACKAGE = Path(txendpoints.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent

#: The layers, bottom first.  A module may import modules of lower layers
#: and of its own package, never a higher layer nor a sibling package of
#: its own layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_net",),
    # What the system answers without DNS, below the resolution using it,
    # and socket options, below the settings holding them.
    ("_hosts", "_sockopts"),
    ("_errors", "_resolver", "_settings"),
    ("_client", "_server", "_stdio"),
    ("_strings",),
    ("_relay",),
    ("_tools",),
    # The public face may use anything.
    ("__init__", "__main__", "testing"),
)

#: Modules that need no test file of their own: package docstrings and the
#: C{python -m} entry point, which test_tools_cli runs.
UNTESTED = frozenset({"__main__"})


def moduleName(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(["txendpoints", *parts])


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield moduleName(path), path


def top(name: str) -> str:
    """
    The first component under C{txendpoints}: C{_client} for
    C{txendpoints._client._race}, C{__init__} for C{txendpoints} itself.
    """
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layerOf(name: str) -> int:
    for number, members in enumerate(LAYERS):
        if top(name) in members:
            return number
    raise AssertionError(f"{name} is in no layer; add it to LAYERS")


def imports(name: str, path: Path, known: set[str] | None = None) -> set[str]:
    """
    Every module of ours that C{name} imports, wherever the import is.

    @param known: The names of our modules; by default, every module found.
    """
    isPackage = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if not isPackage:
                    base.pop()
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # "from . import _service" imports a module, not a name.
            found.update(f"{target}.{a.name}" for a in node.names)
    ours = known if known is not None else {m for m, _ in modules()}
    return {m for m in found if m in ours and m != name}


class LayerTests(SynchronousTestCase):
    """
    Dependencies run one way, with no cycle.
    """

    def test_everyModuleHasALayer(self) -> None:
        for name, _ in modules():
            layerOf(name)

    def test_noUpwardImport(self) -> None:
        wrong = []
        for name, path in modules():
            for target in imports(name, path):
                if top(target) == top(name):
                    continue
                if layerOf(target) >= layerOf(name):
                    wrong.append(f"{name} imports {target}")
        self.assertEqual(wrong, [])

    def test_noCycle(self) -> None:
        graph = {name: imports(name, path) for name, path in modules()}
        # A package's __init__ is imported with each of its modules; count
        # only what it imports itself.
        state: dict[str, int] = {}
        cycles: list[list[str]] = []

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            for target in sorted(graph[node]):
                if state.get(target) == 1:
                    cycles.append([*trail[trail.index(target) :], target])
                elif target not in state:
                    visit(target, [*trail, target])
            state[node] = 2

        for name in sorted(graph):
            if name not in state:
                visit(name, [name])
        self.assertEqual(cycles, [])

    def test_theCheckSeesUpwardImports(self) -> None:
        """
        The walk finds relative imports, imports inside functions and under
        C{TYPE_CHECKING}, so a test above could fail.
        """
        name = "txendpoints._client._race"
        path = PACKAGE / "_client" / "_race.py"
        self.assertIn("txendpoints._net", imports(name, path))
        source = (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from .._strings import _spec\n"
            "def f():\n    from .._relay._relay import Relay\n"
        )
        known = {name, "txendpoints._strings._spec", "txendpoints._relay._relay"}
        with tempfile.TemporaryDirectory() as where:
            probe = Path(where) / "probe.py"
            probe.write_text(source)
            found = imports(name, probe, known)
        self.assertEqual(
            found,
            {"txendpoints._strings._spec", "txendpoints._relay._relay"},
        )


def privateTwistedImports(path: Path) -> Iterator[tuple[str, int]]:
    """
    Each private Twisted name C{path} imports, with its line.
    """
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            if not module.startswith("twisted"):
                continue
            privateModule = [p for p in module.split(".") if p.startswith("_")]
            if privateModule:
                yield module, node.lineno
            for alias in node.names:
                if alias.name.startswith("_"):
                    yield f"{module}.{alias.name}", node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("twisted") and any(
                    p.startswith("_") for p in alias.name.split(".")
                ):
                    yield alias.name, node.lineno


class ShapeTests(SynchronousTestCase):
    """
    What each module promises about itself.
    """

    def test_privateTwistedNamesOnce(self) -> None:
        """
        Each private Twisted name is imported in one module, under a
        comment that names the public fallback or says why there is none.
        """
        where: dict[str, set[str]] = {}
        uncommented = []
        for name, path in modules():
            lines = path.read_text().splitlines()
            for private, line in privateTwistedImports(path):
                where.setdefault(private, set()).add(name)
                above = lines[max(0, line - 6) : line - 1]
                if not any(text.strip().startswith("#") for text in above):
                    uncommented.append(f"{name}:{line} {private}")
        self.assertEqual({p: m for p, m in where.items() if len(m) > 1}, {})
        self.assertEqual(uncommented, [])
        # The check sees the ones we know of.
        self.assertIn("twisted.internet._posixstdio", where)

    def test_short(self) -> None:
        long = {
            name: count
            for name, path in modules()
            if (count := len(path.read_text().splitlines())) > 400
        }
        self.assertEqual(long, {})

    def test_docstringSaysWhatItMayImport(self) -> None:
        silent = []
        for name, path in modules():
            if layerOf(name) == len(LAYERS) - 1:
                continue
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            if "may import" not in " ".join(doc.split()):
                silent.append(name)
        self.assertEqual(silent, [])

    def test_everyModuleHasItsTestFile(self) -> None:
        """
        C{txendpoints._client._race} is tested in C{tests/test_client_race.py},
        C{txendpoints._net} in C{tests/test_net.py}.
        """
        missing = []
        for name, path in modules():
            parts = name.split(".")[1:]
            if path.name == "__init__.py" and parts:
                continue  # a package's docstring
            stem = "_".join(p.lstrip("_") for p in parts) or "init"
            if stem in UNTESTED or parts[-1:] == ["__main__"]:
                continue
            if not (TESTS / f"test_{stem}.py").exists():
                missing.append(f"{name}: tests/test_{stem}.py")
        self.assertEqual(missing, [])
