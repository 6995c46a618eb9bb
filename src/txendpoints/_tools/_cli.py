"""
The C{txendpoints} command.

Each subcommand registers itself in L{_buildParser} and is run by L{main}.

The top layer: it may import every layer below it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

Handler = Callable[[argparse.Namespace], int]
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _buildParser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="txendpoints",
        description="Inspect and use Twisted endpoint strings.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=_version(),
        help="print the versions of txendpoints, Twisted and Python, and exit",
    )
    parser.set_defaults(handler=None)
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _addList(subcommands)
    _addCheck(subcommands)
    _addRelayCommand(subcommands)
    _addNetcat(subcommands)
    return parser


def _version() -> str:
    """
    @return: C{txendpoints VERSION (Twisted VERSION, Python VERSION)}: a
        bug report needs all three.
    """
    import platform
    from importlib.metadata import version

    return (
        f"txendpoints {version('txendpoints')} (Twisted {version('Twisted')}, "
        f"Python {platform.python_version()})"
    )


def _addNetcat(commands: Any) -> None:
    # connect and listen live in their own module, so that the relay's
    # part of this one stays as it is.
    from ._nccommands import addCommands

    addCommands(commands)


def _addRelayCommand(commands: Any) -> None:
    """
    Register C{txendpoints relay}.

    @param commands: The subparsers of the C{txendpoints} parser.
    """
    # Cheap: the relay's option table, not the relay.
    from .._relay._options import addArguments
    from .._relay._worker import addWorkerOptions

    relay = commands.add_parser(
        "relay",
        help="relay bytes between two endpoint strings",
        description=(
            "Accept connections on LISTEN and relay each one to a new "
            "connection to CONNECT, both ways, with flow control and "
            "half-close. Messages, including the address listened on, go "
            "to standard error: standard output may carry the relayed bytes "
            "(with a stdio LISTEN string)."
        ),
    )
    relay.add_argument("listen", metavar="LISTEN", help="server endpoint string")
    relay.add_argument("connect", metavar="CONNECT", help="client endpoint string")
    # The relay's own options are shared with twist tx-relay.
    addArguments(relay)
    relay.add_argument(
        "--once",
        action="store_true",
        help=(
            "exit when the first connection ends, with status 1 if it could "
            "not be connected (implied by a stdio LISTEN)"
        ),
    )
    relay.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="log only the listening address, warnings and errors",
    )
    # Issue 18.
    addWorkerOptions(relay)
    relay.set_defaults(handler=_relay)


def _servesOnce(listenOn: object) -> bool:
    """
    Whether a relay listening on C{listenOn} can only ever serve one
    connection: standard I/O, ours or Twisted's.  Decided by the endpoint's
    type, since a prefix may be spelt in any case and a plugin may be
    registered under another one.

    @param listenOn: The server endpoint.
    @return: Whether the relay should exit once that connection ends.
    """
    from twisted.internet.endpoints import StandardIOEndpoint

    from .._stdio._endpoints import StandardIOServerEndpoint

    return isinstance(listenOn, (StandardIOServerEndpoint, StandardIOEndpoint))


def _relay(args: argparse.Namespace) -> int:
    import signal

    from .._relay._options import installReactorNamed, settingsFrom

    if args.reactor is not None:
        try:
            installReactorNamed(args.reactor)
        except ValueError as e:
            print(f"txendpoints relay: error: {e}", file=sys.stderr)
            return 2

    from twisted.internet import reactor as _reactor
    from twisted.logger import (
        FilteringLogObserver,
        globalLogBeginner,
        textFileLogObserver,
    )

    from .._relay._relay import Relay
    from .._relay._service import RelayLogPredicate, RelayService, parseEndpoints

    reactor: Any = _reactor
    try:
        listenOn, connectTo = parseEndpoints(reactor, args.listen, args.connect)
    except ValueError as e:
        print(f"txendpoints relay: error: {e}", file=sys.stderr)
        return 2

    # Issue 18: a worker adopts its parent's sockets; a parent runs workers.
    from .._relay import _worker, _workers

    if args.worker_fds is not None:
        listenOn = _worker.AdoptedPortsEndpoint(reactor, args.worker_fds)
    elif args.workers > 1 and (args.once or _servesOnce(listenOn)):
        print(
            "txendpoints relay: error: --workers needs a listening socket "
            "(not standard I/O, not --once)",
            file=sys.stderr,
        )
        return 2

    globalLogBeginner.beginLoggingTo(
        [
            FilteringLogObserver(
                textFileLogObserver(sys.stderr), [RelayLogPredicate(args.quiet)]
            )
        ],
        redirectStandardIO=False,
    )
    status = 0
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            reactor.stop()

    def listenFailed(reason: object) -> None:
        nonlocal status
        status = 1
        stop()

    service: Any = RelayService(
        reactor,
        listenOn,
        connectTo,
        args.max_connections,
        args.grace,
        onListenFailed=listenFailed,
        listenName=args.listen,
        connectName=args.connect,
        settings=settingsFrom(vars(args)),
        statsSignal=True,
    )
    abortAll = service.factory.abortAll
    if args.workers > 1 and args.worker_fds is None:
        service = _workers.commandService(reactor, listenOn, args, listenFailed)
        abortAll = service.abortAll
    if args.once or _servesOnce(listenOn):

        def finished(relay: Relay) -> None:
            nonlocal status
            if relay.connectFailure is not None:
                # Its only connection failed: a script or an ssh
                # ProxyCommand must be able to tell.
                status = 1
            stop()

        service.factory.onFinished = finished

    exitSignal: int | None = None

    def stopOrAbort(signum: int) -> None:
        nonlocal exitSignal
        if stopping:
            abortAll()
        else:
            exitSignal = signum
            stop()

    def onSignal(signum: int, frame: object) -> None:
        reactor.callFromThread(stopOrAbort, signum)

    # Twisted's own handlers would stop the reactor on the first signal
    # too, but a second one during the grace period would only log an
    # error; ours ends the remaining connections at once.
    signal.signal(signal.SIGINT, onSignal)
    signal.signal(signal.SIGTERM, onSignal)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.callWhenRunning(service.startService)
    if args.worker_fds is not None:
        _worker.becomeWorker(reactor, service, args.worker_ready, stop)
    reactor.run(installSignalHandlers=False)
    if exitSignal is not None:
        # Die of the signal, as twist does, so that a shell loop or a
        # supervisor sees why we stopped.
        import os

        signal.signal(exitSignal, signal.SIG_DFL)
        os.kill(os.getpid(), exitSignal)
    return status


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

    A reader that goes away early (C{txendpoints list | head}) ends the
    command quietly, as it does for other Unix tools, instead of with a
    C{BrokenPipeError} traceback.
    """
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again while flushing at exit; point stdout
        # at nothing so that it cannot.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)


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
    command.add_argument(
        "--long",
        "-l",
        action="store_true",
        help="each option on a line of its own, with its type, default, "
        "meaning and platforms",
    )
    command.set_defaults(handler=_list, direction=None)


def _list(args: argparse.Namespace) -> int:
    """
    Print the installed endpoint types.

    @param args: The parsed command line.
    @return: 0.
    """
    import dataclasses
    import json

    from ._catalog import installedEndpointTypes, optionLines

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
            elif t.options and getattr(args, "long", False):
                print(f"{indent}options:")
                for line in optionLines(t.options):
                    print(f"{indent}  {line}")
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
    command.add_argument(
        "--resolve",
        action="store_true",
        help="with --client: resolve the host for real and print the addresses "
        "in the order a connect would try them, with when each attempt would "
        "start if none answered and the RFC 6724 rule that placed it",
    )
    command.add_argument("string", metavar="STRING", help="the endpoint string")
    command.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    """
    Parse one endpoint string and say what it would do (L{check
    <txendpoints._tools._plan.check>}, imported only when it runs).
    """
    from ._plan import check

    return check(args)
