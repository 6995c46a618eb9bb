"""
Which installed distribution provides a plugin: for the warning about
colliding prefixes and for C{txendpoints list}.

It may import only the standard library.
"""

from __future__ import annotations

import sys
from functools import cache
from importlib import metadata
from pathlib import Path


def dropinModule(plugin: object) -> str | None:
    """
    The name of the plugin dropin module that holds C{plugin}.

    @param plugin: A plugin object that C{getPlugins} returned.
    @return: A module name under C{twisted.plugins}, or L{None}.
    """
    for name, module in list(sys.modules.items()):
        if name.startswith("twisted.plugins.") and module is not None:
            if any(value is plugin for value in vars(module).values()):
                return name
    return None


@cache
def _fileOwners() -> dict[Path, str]:
    owners: dict[Path, str] = {}
    for dist in metadata.distributions():
        label = f"{dist.metadata['Name']} {dist.version}"
        for file in dist.files or ():
            path = str(file)
            if path.endswith(".py"):
                owners[Path(str(dist.locate_file(file))).resolve()] = label
            elif path.endswith(".pth"):
                # An editable install: the .pth names the source directory.
                try:
                    text = Path(str(dist.locate_file(file))).read_text()
                except OSError:
                    continue
                for line in text.splitlines():
                    if line and not line.startswith(("#", "import")):
                        owners[Path(line.strip()).resolve()] = label
    return owners


def _owner(path: Path) -> str | None:
    owners = _fileOwners()
    for candidate in (path, *path.parents):
        if candidate in owners:
            return owners[candidate]
    return None


def distributionOf(plugin: object) -> str:
    """
    The installed distribution that provides C{plugin}.

    @param plugin: A plugin object.
    @return: The distribution's name and version, or a description of
        where the plugin lives if no distribution claims it.
    """
    moduleName = dropinModule(plugin) or type(plugin).__module__
    module = sys.modules.get(moduleName)
    filename = getattr(module, "__file__", None)
    if filename:
        owner = _owner(Path(filename).resolve())
        if owner is not None:
            return owner
        return f"no distribution ({filename})"
    return f"no distribution ({moduleName})"
