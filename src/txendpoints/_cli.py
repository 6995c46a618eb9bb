"""
The C{txendpoints} command.

Each subcommand registers itself in L{_buildParser} and is run by L{main}.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def _buildParser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="txendpoints",
        description="Inspect and use Twisted endpoint strings.",
    )
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _addRelayCommand(commands)
    return parser


def _addRelayCommand(commands: Any) -> None:
    """
    Register C{txendpoints relay}.

    @param commands: The subparsers of the C{txendpoints} parser.
    """
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
    relay.add_argument(
        "--max-connections",
        metavar="N",
        type=_relayArgument("parseMaxConnections"),
        help="refuse connections while N are open (default: no limit)",
    )
    relay.add_argument(
        "--grace",
        metavar="SECONDS",
        type=_relayArgument("parseGrace"),
        default=5.0,
        help=(
            "on SIGINT or SIGTERM, stop listening and give open connections "
            "this long to finish (default: 5); a second signal ends them at once"
        ),
    )
    relay.add_argument(
        "--once",
        action="store_true",
        help="exit when the first connection ends (implied by a stdio LISTEN)",
    )
    relay.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="log only the listening address, warnings and errors",
    )
    relay.set_defaults(handler=_relay)


def _relayArgument(name: str) -> Callable[[str], Any]:
    # Imported when used, so that other subcommands do not pay for the
    # relay's imports.  argparse reports a ValueError from a type function
    # as "invalid <name> value"; ArgumentTypeError keeps our message.
    def convert(text: str) -> Any:
        from . import _relayservice

        try:
            return getattr(_relayservice, name)(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return convert


def _relay(args: argparse.Namespace) -> int:
    import signal

    from twisted.internet import reactor as _reactor
    from twisted.logger import (
        FilteringLogObserver,
        globalLogBeginner,
        textFileLogObserver,
    )

    from ._relayservice import RelayLogPredicate, RelayService, parseEndpoints

    reactor: Any = _reactor
    try:
        listenOn, connectTo = parseEndpoints(reactor, args.listen, args.connect)
    except ValueError as e:
        print(f"txendpoints relay: error: {e}", file=sys.stderr)
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

    service = RelayService(
        reactor,
        listenOn,
        connectTo,
        args.max_connections,
        args.grace,
        onListenFailed=listenFailed,
        listenName=args.listen,
        connectName=args.connect,
    )
    if args.once or args.listen.split(":", 1)[0] in ("stdio", "tx-stdio"):
        service.factory.onFinished = lambda relay: stop()

    exitSignal: int | None = None

    def stopOrAbort(signum: int) -> None:
        nonlocal exitSignal
        if stopping:
            service.factory.abortAll()
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
    """
    sys.exit(main())
