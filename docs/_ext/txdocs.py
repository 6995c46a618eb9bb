"""
Sphinx directives for the txendpoints documentation.

C{.. txendpoints-strings::} inserts the endpoint-string reference generated
from the option specs (see L{stringref}), so the reference always matches
the installed code.

C{.. towncrier-draft::} inserts what C{towncrier build --draft} would add
to the changelog for the fragments in C{changelog.d/}, so unreleased
changes are visible in the built docs without writing any file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version as distributionVersion
from pathlib import Path
from typing import Any

from docutils.nodes import Node
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective
from stringref import renderReference

import txendpoints
import txendpoints._strings._specs
from txendpoints._strings._specs import SPECS


class _InsertingDirective(SphinxDirective):
    """
    A directive that splices generated reST into the page, exactly as if it
    had been written there, so its section titles join the page's own.
    """

    sourceName = "<generated>"

    def generate(self) -> str:
        raise NotImplementedError()

    def run(self) -> list[Node]:
        lines = self.generate().splitlines()
        self.state_machine.insert_input(lines, self.sourceName)
        return []


class StringsDirective(_InsertingDirective):
    """
    The endpoint-string reference for every spec in
    L{txendpoints._strings._specs.SPECS}.
    """

    sourceName = (
        "<txendpoints-strings: generated from txendpoints._strings._specs.SPECS>"
    )

    def generate(self) -> str:
        # Rebuild the page when the specs or the public names change.
        for module in (txendpoints._strings._specs, txendpoints):
            if module.__file__:
                self.env.note_dependency(module.__file__)
        return str(renderReference(SPECS))


def towncrierDraft(root: Path, version: str) -> str:
    """
    Run C{towncrier build --draft} and return the reST it would write.

    @param root: The directory holding C{pyproject.toml}.
    @param version: The version to title the draft with.
    @return: The draft release notes.
    @raise ExtensionError: If towncrier fails.
    """
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "towncrier",
            "build",
            "--draft",
            f"--dir={root}",
            f"--version={version}",
            "--date=not yet released",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    if result.returncode != 0:
        raise ExtensionError(f"towncrier build --draft failed:\n{result.stderr}")
    # Older towncrier versions print their progress before the draft, ending
    # with "What is seen below is what would be written."; newer ones print
    # it on stderr.
    draft = result.stdout
    match = re.search(r"^What is seen below is what would be written\.\n", draft, re.M)
    if match is not None:
        draft = draft[match.end() :]
    if "No significant changes." in draft:
        return ""
    return draft.strip("\n") + "\n"


class TowncrierDraftDirective(_InsertingDirective):
    """
    The release notes towncrier would write for the current fragments.
    """

    sourceName = "<towncrier-draft: towncrier build --draft>"

    def generate(self) -> str:
        root = Path(self.env.srcdir).parent
        # Any fragment change must rebuild the page.
        for fragment in sorted((root / "changelog.d").glob("*")):
            self.env.note_dependency(str(fragment))
        return towncrierDraft(root, distributionVersion("txendpoints"))


def setup(app: Sphinx) -> dict[str, Any]:
    """
    Register the directives.
    """
    app.add_directive("txendpoints-strings", StringsDirective)
    app.add_directive("towncrier-draft", TowncrierDraftDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
