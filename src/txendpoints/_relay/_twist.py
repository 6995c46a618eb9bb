"""
C{twist tx-relay} (and C{twistd tx-relay}): its options, built from the
table in L{txendpoints._relay._options} that C{txendpoints relay} reads
too, and L{makeService}.

It may import the rest of L{txendpoints._relay}, the string layer and
everything below it.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from twisted.python import usage
from twisted.python.failure import Failure

from ._options import (
    OPTIONS,
    REACTOR_HELP,
    installReactorNamed,
    parseAllow,
    parseDeny,
    settingsFrom,
)
from ._service import RelayService, parseEndpoints
from ._worker import parseWorkers, workerArguments
from ._workers import WorkersService, settingsArguments


def _usageCoerce(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    # usage.Options would prefix a ValueError with "Parameter type
    # enforcement failed"; our message already says what is wrong.
    def coerce(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as e:
            raise usage.UsageError(str(e)) from None

    return coerce


def _helpOf(name: str) -> str:
    """
    An option's help as usage shows it: a sentence, without the default
    when usage adds its own "[default: ...]".
    """
    [option] = [o for o in OPTIONS if o.name == name]
    text = option.help
    if option.default is not None:
        text = re.sub(r" \(default: [^)]*\)", "", text)
    return text[0].upper() + text[1:] + "."


class Options(usage.Options):
    """
    Options of C{twist tx-relay}.
    """

    synopsis = "--listen LISTEN --connect CONNECT [options]"
    longdesc = (
        "Relay bytes between two endpoint strings, with flow control: each "
        "connection accepted on LISTEN is connected to CONNECT."
    )
    optParameters = [
        ["listen", "l", None, "Server endpoint string to accept connections on."],
        ["connect", "c", None, "Client endpoint string to connect each one to."],
        *(
            [o.name, None, o.default, _helpOf(o.name), _usageCoerce(o.parse)]
            for o in OPTIONS
            if not o.rule
        ),
        # Issue 18.
        [
            "workers",
            None,
            1,
            "Relay in N worker processes (auto: one per CPU).",
            _usageCoerce(parseWorkers),
        ],
    ]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self["access"] = []

    def opt_allow(self, value: str) -> None:
        self["access"].append(_usageCoerce(parseAllow)(value))

    def opt_deny(self, value: str) -> None:
        self["access"].append(_usageCoerce(parseDeny)(value))

    def opt_reactor(self, name: str) -> None:
        # At once, as twist does, before anything imports the default one.
        _usageCoerce(installReactorNamed)(name)

    def postOptions(self) -> None:
        from twisted.internet import reactor

        for name in ("listen", "connect"):
            if self[name] is None:
                raise usage.UsageError(f"--{name} is required")
        try:
            self["listenOn"], self["connectTo"] = parseEndpoints(
                reactor, self["listen"], self["connect"]
            )
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        self["settings"] = settingsFrom(
            {k.replace("-", "_"): v for k, v in self.items()}
        )


def _documentMethods() -> None:
    # usage shows these methods' docstrings as their help: the table's.
    # (Set in a function: pydoctor cannot follow a computed __doc__.)
    Options.opt_allow.__doc__ = _helpOf("allow")
    Options.opt_deny.__doc__ = _helpOf("deny")
    Options.opt_reactor.__doc__ = REACTOR_HELP[0].upper() + REACTOR_HELP[1:] + "."


_documentMethods()


def _stopAndExitNonZero(reactor: Any) -> Callable[[Failure], None]:
    """
    What C{twist tx-relay} does when listening fails once the reactor runs.

    @param reactor: The running reactor.
    @return: A function of the failure that stops the reactor and makes
        the process exit with status 1.
    """

    def exitNonZero() -> None:
        # twist and twistd offer no public way to set the exit status once
        # the reactor runs: SystemExit raised in a reactor callback or in an
        # atexit function is logged and dropped, and their main() returns
        # None.  So once they are done (twistd has removed its pid file), end
        # the process ourselves, after what it printed.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(1)

    def listenFailed(reason: Failure) -> None:
        atexit.register(exitNonZero)
        if reactor.running:
            reactor.stop()
        else:
            reactor.callWhenRunning(reactor.stop)

    return listenFailed


def makeService(options: Options) -> RelayService | WorkersService:
    """
    Make the relay service for C{twist tx-relay}.

    @param options: The parsed options.
    @return: The service.  If it cannot listen, the process exits 1: a
        listen that fails at once raises from C{startService}, as Twisted's
        C{tcp:} does, and one that fails later stops the reactor.
    """
    from twisted.internet import reactor

    if options["workers"] > 1:
        # Issue 18: the workers are relay commands; twist supervises them.
        return WorkersService(
            reactor,
            options["listenOn"],
            workerArguments(
                options["listen"],
                options["connect"],
                options["grace"],
                options["max-connections"],
                quiet=False,
                more=settingsArguments(options["settings"]),
            ),
            options["workers"],
            options["grace"],
            onFailed=_stopAndExitNonZero(reactor),
            listenName=options["listen"],
        )
    return RelayService(
        reactor,
        options["listenOn"],
        options["connectTo"],
        options["max-connections"],
        options["grace"],
        onListenFailed=_stopAndExitNonZero(reactor),
        listenName=options["listen"],
        connectName=options["connect"],
        raiseSynchronously=True,
        settings=options["settings"],
        statsSignal=True,
    )
