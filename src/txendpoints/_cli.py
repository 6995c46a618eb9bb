"""
The C{txendpoints} command.

Each subcommand registers itself in L{_buildParser} and is run by L{main}.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _buildParser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="txendpoints",
        description="Inspect and use Twisted endpoint strings.",
    )
    parser.set_defaults(handler=None)
    parser.add_subparsers(title="commands", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the C{txendpoints} command.

    @param argv: The arguments after the program name; L{sys.argv} if
        L{None}.
    @return: The exit status: 0 for success, 2 for a usage error or a bad
        endpoint string, 1 for a runtime failure.
    """
    parser = _buildParser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    handler: Handler | None = args.handler
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)


def console() -> None:
    """
    Entry point of the C{txendpoints} console script.
    """
    sys.exit(main())
