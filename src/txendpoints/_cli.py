"""
The C{txendpoints} command.

Each subcommand registers itself in L{_buildParser} and is run by L{main}.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TypeAlias

Handler = Callable[[argparse.Namespace], int]
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _buildParser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="txendpoints",
        description="Inspect and use Twisted endpoint strings.",
    )
    parser.set_defaults(handler=None)
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _addList(subcommands)
    _addCheck(subcommands)
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


def _addList(subcommands: Subcommands) -> None:
    command = subcommands.add_parser(
        "list",
        help="list the installed endpoint types",
        description="List every endpoint type installed in this environment: "
        "Twisted's built-ins, Twisted's plugins, ours and third-party ones.",
    )
    which = command.add_mutually_exclusive_group()
    which.add_argument(
        "--server",
        dest="direction",
        action="store_const",
        const="server",
        help="only server endpoint types",
    )
    which.add_argument(
        "--client",
        dest="direction",
        action="store_const",
        const="client",
        help="only client endpoint types",
    )
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(handler=_list, direction=None)


def _list(args: argparse.Namespace) -> int:
    """
    Print the installed endpoint types.

    @param args: The parsed command line.
    @return: 0.
    """
    import dataclasses
    import json

    from ._catalog import installedEndpointTypes

    found = installedEndpointTypes(args.direction)
    if args.json:
        json.dump([dataclasses.asdict(t) for t in found], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    width = max((len(t.prefix) for t in found), default=0) + 2
    for direction in ("server", "client"):
        rows = [t for t in found if t.direction == direction]
        if not rows:
            continue
        print(f"{direction.capitalize()} endpoint types:")
        for t in rows:
            print(f"  {t.prefix:<{width}}{t.description}  [{t.distribution}]")
            indent = " " * (width + 2)
            if t.options is None:
                print(f"{indent}options: unknown")
            elif t.options:
                print(f"{indent}options: {', '.join(map(str, t.options))}")
            if t.collision:
                state = "in use" if t.active else "NOT in use"
                print(
                    f"{indent}COLLISION ({state}): prefix also claimed by "
                    + ", ".join(t.collision)
                )
        print()
    return 0


def _addCheck(subcommands: Subcommands) -> None:
    command = subcommands.add_parser(
        "check",
        help="parse an endpoint string without listening or connecting",
        description="Parse STRING as a server endpoint string (a client one "
        "with --client) and print its canonical form and what it would do.",
    )
    command.add_argument(
        "--client", action="store_true", help="parse a client endpoint string"
    )
    command.add_argument("string", metavar="STRING", help="the endpoint string")
    command.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    """
    Parse one endpoint string and say what it would do.

    @param args: The parsed command line.
    @return: 0 if the string is good, 2 if not.
    """
    from twisted.internet import reactor

    from ._lookup import clientFromString, serverFromString, tokenize
    from ._options import EndpointStringError
    from ._plan import canonical, plan

    direction = "client" if args.client else "server"
    parse = clientFromString if args.client else serverFromString
    try:
        endpoint = parse(reactor, args.string)
    except EndpointStringError as e:
        print(f"txendpoints check: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        # A Twisted or third-party parser failing its own way: still a bad
        # string, not a crash of ours.
        print(
            f"txendpoints check: {args.string!r} was rejected by its parser: "
            f"{type(e).__name__}: {e}",
            file=sys.stderr,
        )
        return 2
    tokens = tokenize(args.string)
    print(canonical(endpoint, tokens.args, tokens.kwargs))
    print(plan(endpoint, direction))
    return 0
