"""
Sphinx configuration for the txendpoints documentation.

Build (warnings as errors, offline)::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html

The API reference under C{api/} is made by pydoctor from the epytext
docstrings, through C{pydoctor.sphinx_ext.build_apidocs}; the endpoint
string reference is generated from the option specs by C{_ext/txdocs.py}.
"""

from __future__ import annotations

import sys
from importlib.metadata import version as distributionVersion
from pathlib import Path

here = Path(__file__).resolve().parent
root = here.parent
sys.path.insert(0, str(here / "_ext"))

from inventories import (  # noqa: E402
    PYTHON_URL,
    TWISTED_URL,
    pythonInventory,
    twistedInventory,
)

project = "txendpoints"
author = "The txendpoints developers"
copyright = "The txendpoints developers"
release = distributionVersion("txendpoints")
version = release

extensions = [
    "sphinx.ext.intersphinx",
    "pydoctor.sphinx_ext.build_apidocs",
    "txdocs",
    "timeline",
]

exclude_patterns = ["_build", "_ext"]
html_theme = "furo"
html_title = f"txendpoints {release}"
# Code blocks wrap long lines (see the file).
html_static_path = ["_static"]
html_css_files = ["wrap.css"]
# A block that names no language is text, not Python: every Python example
# says it is one (python, pycon).
highlight_language = "none"
# Every cross-reference must resolve: a broken one is a warning, and the
# build treats warnings as errors.
nitpicky = True

# Offline: the inventories are made on this machine (see _ext/inventories.py).
_cache = here / "_build" / "inventories"
_pythonInventory = pythonInventory(_cache)
_twistedInventory = twistedInventory(_cache)
intersphinx_mapping = {
    "python": (PYTHON_URL, str(_pythonInventory)),
    "twisted": (TWISTED_URL, str(_twistedInventory)),
}

pydoctor_args = [
    "--project-name=txendpoints",
    f"--project-version={release}",
    "--project-url=../index.html",
    "--docformat=epytext",
    f"--project-base-dir={root}",
    f"--intersphinx-file={_pythonInventory}::{PYTHON_URL.rstrip('/')}",
    f"--intersphinx-file={_twistedInventory}::{TWISTED_URL.rstrip('/')}",
    "--html-output={outdir}/api",
    str(root / "src" / "txendpoints"),
]
pydoctor_url_path = "api/"
