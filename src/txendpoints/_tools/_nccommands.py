"""
C{txendpoints connect} and C{txendpoints listen}: netcat for any endpoint
string, through a L{Session<txendpoints._tools._netcat.Session>}.

The top layer: it may import every layer below it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import (
    IAddress,
    IListeningPort,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from twisted.python.failure import Failure

from .._net import formatAddress
from .._strings._clients import addressClientString
from ._netcat import BAD_STRING, FAILED, Session


def connect(session: Session, endpoint: IStreamClientEndpoint, name: str) -> None:
    """
    Connect C{endpoint} and join the connection to standard I/O.

    @param session: The session.
    @param endpoint: Where to connect.
    @param name: The string C{endpoint} came from, for messages.
    """

    def failed(reason: Failure) -> None:
        session.say(f"cannot connect to {name}: {reason.getErrorMessage()}")
        session.status = FAILED
        session.abort()

    endpoint.connect(session.factory()).addErrback(failed)


def whereListening(port: IListeningPort) -> list[str]:
    """
    Lines that say where a port listens, each ending in the client string
    that connects there.

    @param port: The port.
    @return: C{listening on HOST:PORT; connect with STRING} per address;
        where no client string reaches it, C{listening on ADDRESS}.
    """
    getHosts: Callable[[], list[IAddress]] | None = getattr(port, "getHosts", None)
    hosts = getHosts() if getHosts else [port.getHost()]
    lines = []
    for address in hosts:
        where = f"listening on {formatAddress(address)}"
        try:
            client = addressClientString(address)
        except ValueError:
            lines.append(where)
        else:
            lines.append(f"{where}; connect with {client}")
    return lines


def listen(session: Session, endpoint: IStreamServerEndpoint, name: str) -> None:
    """
    Listen on C{endpoint}, say where, and join the connections accepted to
    standard I/O: the first only (refusing the rest), or with
    C{session.keep} one after another.

    @param session: The session.
    @param endpoint: Where to listen.
    @param name: The string C{endpoint} came from, for messages.
    """
    factory = session.factory()
    build = factory.buildProtocol
    accepted = False
    listening: list[IListeningPort] = []

    def buildProtocol(addr: IAddress) -> Any:
        nonlocal accepted
        if accepted and not session.keep:
            return None
        if not accepted and not session.keep:
            for port in listening:
                port.stopListening()
        accepted = True
        return build(addr)

    factory.buildProtocol = buildProtocol  # type: ignore[method-assign,assignment]

    def listened(port: IListeningPort) -> None:
        listening.append(port)
        for line in whereListening(port):
            session.say(line)
        if accepted and not session.keep:
            port.stopListening()

    def failed(reason: Failure) -> None:
        session.say(f"cannot listen on {name}: {reason.getErrorMessage()}")
        session.status = FAILED
        session.abort()

    endpoint.listen(factory).addCallbacks(listened, failed)


def addCommands(commands: Any) -> None:
    """
    Register C{txendpoints connect} and C{txendpoints listen}.

    @param commands: The subparsers of the C{txendpoints} parser.
    """
    halfClose = (
        "End of standard input half-closes the connection's writing side; "
        "end of the connection's input ends standard output once it is "
        "flushed. It exits when both directions have ended, or at the end "
        "of the connection's input if standard input is a terminal. Exit "
        "status: 0 after a clean end, 1 if it cannot {verb} or the "
        "connection is lost uncleanly, 2 for a bad string."
    )
    connect = commands.add_parser(
        "connect",
        help="connect to a client endpoint string; copy stdin/stdout to it",
        description="Connect to CLIENT and copy standard input to it and it "
        "to standard output. "
        + halfClose.format(verb="connect")
        + " Usable as an ssh ProxyCommand: "
        "ProxyCommand txendpoints connect tx-host:%h:%p",
    )
    connect.add_argument("string", metavar="CLIENT", help="client endpoint string")
    connect.set_defaults(handler=lambda args: run(args, "connect"))
    listen = commands.add_parser(
        "listen",
        help="listen on a server endpoint string; copy a connection to stdin/stdout",
        description="Listen on SERVER, print on standard error where, as a "
        "client string per address, accept one connection and copy it to "
        "standard input and output, then exit. " + halfClose.format(verb="listen"),
    )
    listen.add_argument("string", metavar="SERVER", help="server endpoint string")
    listen.add_argument(
        "--keep",
        action="store_true",
        help="serve one connection after another instead of exiting after "
        "the first (standard output stays open between them)",
    )
    listen.set_defaults(handler=lambda args: run(args, "listen"))


def _isStdio(endpoint: object) -> bool:
    """
    Whether an endpoint is standard I/O, ours or Twisted's, by its type:
    a prefix may be spelt in any case or registered under another name.
    """
    from twisted.internet.endpoints import StandardIOEndpoint

    from .._stdio._endpoints import StandardIOClientEndpoint, StandardIOServerEndpoint

    return isinstance(
        endpoint,
        StandardIOEndpoint | StandardIOClientEndpoint | StandardIOServerEndpoint,
    )


def run(args: Any, command: str) -> int:
    """
    Run C{connect} or C{listen} on the global reactor until it is over.

    @param args: The parsed command line: C{string}, and C{keep} for
        C{listen}.
    @param command: C{"connect"} or C{"listen"}.
    @return: The exit status; on SIGINT or SIGTERM the process dies of
        the signal instead, once standard I/O is put back.
    """
    import os
    import signal

    from twisted.internet import reactor as _reactor

    from .._stdio._endpoints import StandardIOClientEndpoint
    from .._strings._hints import parseFor
    from .._strings._spec import Direction

    reactor: Any = _reactor
    name = f"txendpoints {command}"
    direction: Direction = "client" if command == "connect" else "server"
    try:
        endpoint = parseFor(
            reactor,
            args.string,
            direction,
            advice=f"txendpoints {'listen' if command == 'connect' else 'connect'} "
            "takes one",
        )
    except ValueError as e:
        print(f"{name}: {e}", file=sys.stderr)
        return BAD_STRING
    if _isStdio(endpoint):
        print(
            f"{name}: {args.string} is standard I/O, which {command} already "
            "copies to; give a network endpoint string",
            file=sys.stderr,
        )
        return BAD_STRING
    session = Session(
        StandardIOClientEndpoint(reactor),
        getattr(args, "keep", False),
        name=name,
        endWithInput=os.isatty(0),
    )
    exitSignal: int | None = None
    stopping = False

    def stopOnce(ignored: object = None) -> None:
        # The session may end inside a signal's abort, which stops too.
        nonlocal stopping
        if not stopping:
            stopping = True
            reactor.stop()

    def onSignal(signum: int, frame: object) -> None:
        def stop() -> None:
            nonlocal exitSignal
            exitSignal = signum
            session.abort()
            stopOnce()

        reactor.callFromThread(stop)

    signal.signal(signal.SIGINT, onSignal)
    signal.signal(signal.SIGTERM, onSignal)
    start = connect if command == "connect" else listen
    reactor.callWhenRunning(start, session, endpoint, args.string)
    session.done.addCallback(stopOnce)
    reactor.run(installSignalHandlers=False)
    if exitSignal is not None:
        signal.signal(exitSignal, signal.SIG_DFL)
        os.kill(os.getpid(), exitSignal)
    return session.status
