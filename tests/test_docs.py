"""
Tests for the documentation: every spec option is documented in the
generated string reference, and every code example in README.rst and
docs/ runs.

Examples are found by reading the reST source:

  - C{.. code-block:: pycon} blocks and bare C{>>>} paragraphs run as
    doctests;
  - C{.. code-block:: python} blocks are executed;
  - blocks introduced by a bare C{::} are executed if they compile as
    Python, and taken for shell commands otherwise;
  - C{console}, C{text} and the like are shown, not run.

All examples of one document share one namespace, in document order, with
C{__name__} set so that C{if __name__ == "__main__"} blocks do not run.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from txendpoints._strings import _parsers
from txendpoints._strings._spec import REQUIRED, Direction, Option, Spec
from txendpoints._strings._specs import SPECS
from txendpoints._strings._values import DURATION, PORT, Host

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

PYTHON = {"python", "py", "python3"}
DOCTEST = {"pycon"}
SHOWN = {"console", "shell", "bash", "sh", "text", "none", "toml", "ini"}


def loadStringref() -> ModuleType:
    """
    Import C{docs/_ext/stringref.py}, which is not part of the package.
    """
    spec = importlib.util.spec_from_file_location(
        "stringref", DOCS / "_ext" / "stringref.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stringref = loadStringref()


def undocumented(specs: Mapping[tuple[str, Direction], Spec]) -> list[str]:
    """
    Everything in C{specs} that the generated reference would show without
    an explanation.

    @return: One line per problem, naming the prefix, direction and option.
    """
    problems = []
    for (prefix, direction), spec in specs.items():
        where = f"{prefix} ({direction})"
        if (spec.prefix, spec.direction) != (prefix, direction):
            problems.append(f"{where}: registered under the wrong key")
        if not spec.summary.strip():
            problems.append(f"{where}: no summary")
        for option in spec.options:
            if not option.doc.strip():
                problems.append(f"{where}: option {option.name!r} has no doc")
            elif not option.doc.rstrip().endswith("."):
                problems.append(
                    f"{where}: doc of {option.name!r} is not a sentence ending in '.'"
                )
            if not option.kind.description.strip():
                problems.append(f"{where}: option {option.name!r} has no type text")
    return problems


def referenceSection(text: str, spec: Spec) -> str:
    """
    The part of the generated reference about C{spec}.

    @raise ValueError: If it has no section for C{spec}.
    """
    title = f"{spec.prefix} ({spec.direction})"
    start = text.index(f"\n{title}\n{'~' * len(title)}\n")
    following = re.search(r"\n[^\n]+\n[~-]{3,}\n", text[start + len(title) + 2 :])
    end = len(text) if following is None else start + len(title) + 2 + following.start()
    return text[start:end]


class SpecDocumentationTests(SynchronousTestCase):
    """
    Every option of every spec is documented, and the reference generated
    for the docs shows each one.
    """

    def test_everyOptionDocumented(self) -> None:
        self.assertEqual(undocumented(SPECS), [])

    def test_undocumentedIsDetected(self) -> None:
        spec = Spec(
            "tx-x",
            "server",
            (
                Option("port", PORT, REQUIRED, positional=True, doc=""),
                Option("delay", DURATION, 1.0, doc="No full stop"),
            ),
            "",
        )
        self.assertEqual(
            undocumented({("tx-x", "server"): spec}),
            [
                "tx-x (server): no summary",
                "tx-x (server): option 'port' has no doc",
                "tx-x (server): doc of 'delay' is not a sentence ending in '.'",
            ],
        )

    def test_everyParserHasASpec(self) -> None:
        """
        The reference covers every registered plugin: each parser's spec is
        the one in C{SPECS}.
        """
        parsers: list[tuple[Any, Direction]] = [
            *((p, "server") for p in _parsers.serverParsers),
            *((p, "client") for p in _parsers.clientParsers),
        ]
        self.assertTrue(parsers)
        for parser, direction in parsers:
            self.assertIs(SPECS[(parser.prefix, direction)], parser.spec)

    def test_referenceShowsEveryOption(self) -> None:
        text = stringref.renderReference(SPECS)
        self.assertTrue(SPECS)
        for spec in SPECS.values():
            section = referenceSection(text, spec)
            self.assertIn(stringref.synopsis(spec), section)
            for option in spec.options:
                self.assertIn(f"* - ``{option.name}``", section)
                self.assertIn(stringref._escapeText(option.doc), section)
                self.assertIn(stringref._escapeText(option.kind.description), section)
                self.assertIn(stringref.defaultText(option), section)

    def test_referenceNamesEndpointClass(self) -> None:
        text = stringref.renderReference(SPECS)
        tcp6 = referenceSection(text, SPECS[("tx-tcp6", "server")])
        self.assertIn(":py:class:`txendpoints.TCP6ServerEndpoint`", tcp6)

    def test_stringsPageIsGenerated(self) -> None:
        page = (DOCS / "strings.rst").read_text()
        self.assertIn("\n.. txendpoints-strings::\n", page)


class ReferenceRenderingTests(SynchronousTestCase):
    """
    The reference renderer on specs made up for the test, so that prefixes
    and option shapes not yet in the package are covered too.
    """

    client = Spec(
        "tx-example",
        "client",
        (
            Option("host", Host(), REQUIRED, positional=True, doc="Host."),
            Option("port", PORT, REQUIRED, positional=True, doc="Port."),
            Option("timeout", DURATION, 30.0, doc="Deadline."),
            Option("bindAddress", Host(), None, doc="Local `address`."),
        ),
        "An example client",
    )
    server = Spec(
        "tx-example",
        "server",
        (
            Option("port", PORT, 0, positional=True, doc="Port."),
            Option("interface", Host(empty=True), "", doc="Interface."),
        ),
        "An example server",
    )

    def test_synopsis(self) -> None:
        self.assertEqual(
            stringref.synopsis(self.client), "tx-example:HOST:PORT[:option=value...]"
        )
        self.assertEqual(
            stringref.synopsis(self.server), "tx-example[:PORT][:option=value...]"
        )

    def test_defaults(self) -> None:
        host, _, timeout, bindAddress = self.client.options
        self.assertEqual(stringref.defaultText(host), "required")
        self.assertEqual(stringref.defaultText(timeout), "``30``")
        self.assertEqual(stringref.defaultText(bindAddress), "not set")
        self.assertEqual(
            stringref.defaultText(self.server.options[1]), '``""`` (empty)'
        )

    def test_order(self) -> None:
        """
        Known prefixes come first in a fixed order, then the rest by name;
        servers before clients.
        """
        specs = {
            (s.prefix, s.direction): s
            for s in (self.client, self.server, *SPECS.values())
        }
        ordered = [
            (s.prefix, s.direction) for s in stringref.orderedSpecs(specs.values())
        ]
        self.assertEqual(
            ordered[-2:], [("tx-example", "server"), ("tx-example", "client")]
        )
        self.assertEqual(ordered[0], ("tx-tcp4", "server"))

    def test_sections(self) -> None:
        text = stringref.renderReference(
            {
                ("tx-example", "client"): self.client,
                ("tx-example", "server"): self.server,
            },
            classes={("tx-example", "client"): "ExampleClientEndpoint"},
        )
        self.assertEqual(text.count("tx-example\n----------\n"), 1)
        client = referenceSection(text, self.client)
        self.assertIn("An example client.", client)
        self.assertIn(":py:class:`txendpoints.ExampleClientEndpoint`", client)
        self.assertIn("Local \\`address\\`.", client)
        self.assertNotIn("py:class", referenceSection(text, self.server))
        self.assertLess(text.index("(server)"), text.index("(client)"))


@dataclass(frozen=True)
class Block:
    """
    A literal block in a reST document.

    @ivar language: The code-block language, C{"::"} for a bare literal
        block, or C{"doctest-block"} for a bare C{>>>} paragraph.
    @ivar line: The 1-based line of the directive or C{::}.
    """

    path: Path
    line: int
    language: str
    text: str


_CODE = re.compile(r"^(\s*)\.\.\s+(?:code-block|code|sourcecode)::\s*(\S*)\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _indented(lines: list[str], start: int, indent: int) -> tuple[str, int]:
    """
    The block of lines from C{start} indented deeper than C{indent}.

    @return: The dedented text and the index of the first line after it.
    """
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    body = "\n".join(lines[start:end]).strip("\n")
    return textwrap.dedent(body) + "\n", end


def literalBlocks(path: Path) -> list[Block]:
    """
    Every code example in the reST file at C{path}.
    """
    lines = path.read_text().splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        code = _CODE.match(line)
        if code:
            indent = _indent(line)
            j = i + 1
            while j < len(lines) and lines[j].strip().startswith(":"):
                j += 1
            text, end = _indented(lines, j, indent)
            blocks.append(Block(path, i + 1, code.group(2) or "::", text))
            i = end
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            text, end = _indented(lines, i + 1, _indent(line))
            if text.strip():
                blocks.append(Block(path, i + 1, "::", text))
            i = end
        elif line.lstrip().startswith(">>>"):
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            text = textwrap.dedent("\n".join(lines[i:end])) + "\n"
            blocks.append(Block(path, i + 1, "doctest-block", text))
            i = end
        else:
            i += 1
    return blocks


def isPython(block: Block) -> bool:
    """
    Whether a block is Python to run (rather than a doctest or shell).
    """
    if block.language in PYTHON:
        return True
    if block.language == "::":
        try:
            compile(block.text, str(block.path), "exec")
        except SyntaxError:
            return False
        return True
    return False


def documents() -> Iterator[Path]:
    """
    README.rst and every reST page of the documentation.
    """
    yield ROOT / "README.rst"
    for path in sorted(DOCS.rglob("*.rst")):
        if "_build" not in path.relative_to(DOCS).parts:
            yield path


def runExamples(path: Path, root: Path = ROOT) -> tuple[int, list[str]]:
    """
    Run every example in one document.

    @param path: The document.
    @param root: What locations in failure messages are relative to.
    @return: How many examples ran, and a description of each failure.
    """
    # Nothing is provided: an example a reader copies must bring its own
    # imports and reactor.
    globs: dict[str, Any] = {"__name__": "__docs__"}
    ran = 0
    failures: list[str] = []
    parser = doctest.DocTestParser()
    for block in literalBlocks(path):
        where = f"{path.relative_to(root)}:{block.line}"
        if block.language in DOCTEST or block.language == "doctest-block":
            test = parser.get_doctest(block.text, globs, where, str(path), block.line)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            output: list[str] = []
            runner.run(test, out=output.append, clear_globs=False)
            # DocTest works on a copy; later examples see what this one made.
            globs.update(test.globs)
            if runner.failures:
                failures.append("".join(output))
            ran += 1
        elif isPython(block):
            try:
                exec(compile(block.text, where, "exec"), globs)
            except Exception as e:
                failures.append(f"{where}: {type(e).__name__}: {e}")
            ran += 1
        elif block.language not in SHOWN and block.language != "::":
            failures.append(
                f"{where}: code-block language {block.language!r} is neither run "
                f"({sorted(PYTHON | DOCTEST)}) nor shown ({sorted(SHOWN)})"
            )
    return ran, failures


class ExampleTests(SynchronousTestCase):
    """
    Every example in README.rst and docs/ runs and shows what it claims.

    One test per document is added below.
    """

    def temporaryFile(self) -> Path:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        return Path(directory.name) / "example.rst"

    def checkDocument(self, path: Path) -> None:
        _, failures = runExamples(path)
        if failures:
            self.fail("\n".join(failures))

    def test_pagesHaveExamples(self) -> None:
        """
        The pages that teach by example really run some, so a change of
        markup cannot silently turn them into text.
        """
        for name in (
            "tutorial",
            "strings",
            "socket-options",
            "migrating",
            "happy-eyeballs",
            "testing",
        ):
            ran, _ = runExamples(DOCS / f"{name}.rst")
            self.assertGreater(ran, 1, name)
        ran, _ = runExamples(ROOT / "README.rst")
        self.assertGreater(ran, 0, "README.rst")

    def test_failingExampleIsReported(self) -> None:
        path = self.temporaryFile()
        path.write_text(
            "Title\n=====\n\n"
            ".. code-block:: pycon\n\n   >>> 1 + 1\n   3\n\n"
            ".. code-block:: python\n\n   raise ValueError('no')\n\n"
            ".. code-block:: cobol\n\n   DISPLAY 'HI'.\n\n"
            "A shell command::\n\n   pip install txendpoints\n\n"
            "A Python fragment::\n\n   undefinedName\n"
        )
        ran, failures = runExamples(path, root=path.parent)
        self.assertEqual(ran, 3)
        self.assertEqual(len(failures), 4)
        self.assertIn("Expected:\n    3\nGot:\n    2", failures[0])
        self.assertIn("ValueError: no", failures[1])
        self.assertIn("'cobol'", failures[2])
        self.assertIn("NameError", failures[3])

    def test_blocksFound(self) -> None:
        path = self.temporaryFile()
        path.write_text(
            "Intro::\n\n    a = 1\n\n"
            "* item\n\n  .. code-block:: console\n     :caption: x\n\n"
            "     $ ls\n     $ pwd\n\n"
            ">>> a\n1\n\n"
            ".. toctree::\n\n   page\n"
        )
        self.assertEqual(
            [(b.line, b.language, b.text) for b in literalBlocks(path)],
            [
                (1, "::", "a = 1\n"),
                (7, "console", "$ ls\n$ pwd\n"),
                (13, "doctest-block", ">>> a\n1\n"),
            ],
        )


def _addDocumentTests() -> None:
    for path in documents():
        name = re.sub(r"\W", "_", str(path.relative_to(ROOT)).removesuffix(".rst"))

        def test(self: ExampleTests, path: Path = path) -> None:
            self.checkDocument(path)

        test.__doc__ = f"The examples in {path.relative_to(ROOT)} run."
        setattr(ExampleTests, f"test_{name}", test)


_addDocumentTests()


#: Runs the C{>>>} examples it reads on standard input (a JSON list of
#: C{[where, text]}) in one namespace, in order, as a reader would type
#: them into a fresh interpreter; prints each failure and exits 1 if any.
_FRESH_RUNNER = """
import doctest, json, sys
globs = {"__name__": "__main__"}
parser = doctest.DocTestParser()
failed = False
for where, line, text in json.load(sys.stdin):
    test = parser.get_doctest(text, globs, where, where, line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=sys.stdout.write, clear_globs=False)
    globs.update(test.globs)
    failed = failed or bool(runner.failures)
sys.exit(1 if failed else 0)
"""


def interpreterExamples(path: Path, root: Path = ROOT) -> list[tuple[str, int, str]]:
    """
    The C{>>>} examples of a document, in order: what a reader types.

    @return: Where each is (C{path:line}), its line, and its text.
    """
    return [
        (f"{path.relative_to(root)}:{block.line}", block.line, block.text)
        for block in literalBlocks(path)
        if block.language in DOCTEST or block.language == "doctest-block"
    ]


def runInFreshInterpreter(path: Path, root: Path = ROOT) -> tuple[int, str]:
    """
    Run a document's C{>>>} examples, and only those, in a new Python
    process with nothing defined: no reactor, no imports, no code from
    the page's other blocks.

    @return: How many examples ran, and the failures' report (C{""} if
        none failed).
    """
    import json
    import subprocess
    import sys

    examples = interpreterExamples(path, root)
    if not examples:
        return 0, ""
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_RUNNER],
        input=json.dumps(examples),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tempfile.gettempdir(),
    )
    report = result.stdout + result.stderr
    return len(examples), report if result.returncode else ""


class FreshInterpreterTests(SynchronousTestCase):
    """
    Every C{>>>} example runs as typed into a fresh interpreter, page by
    page in order: a reader copying them needs nothing the page does not
    show at a prompt.  One test per document is added below.
    """

    def test_failureReported(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        path = Path(directory.name) / "page.rst"
        path.write_text(
            "Setup, not at a prompt::\n\n    x = 1\n\n"
            ">>> y = 2\n\n"
            ".. code-block:: pycon\n\n   >>> y\n   2\n   >>> x\n   1\n"
        )
        ran, report = runInFreshInterpreter(path, root=path.parent)
        self.assertEqual(ran, 2)
        self.assertIn("NameError: name 'x' is not defined", report)
        self.assertNotIn("name 'y'", report)


def _addFreshTests() -> None:
    for path in documents():
        name = re.sub(r"\W", "_", str(path.relative_to(ROOT)).removesuffix(".rst"))

        def test(self: FreshInterpreterTests, path: Path = path) -> None:
            _, report = runInFreshInterpreter(path)
            if report:
                self.fail(report)

        test.__doc__ = (
            f"The >>> examples in {path.relative_to(ROOT)} run in a fresh interpreter."
        )
        setattr(FreshInterpreterTests, f"test_{name}", test)


_addFreshTests()
