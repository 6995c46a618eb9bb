"""
The errors this package raises of its own: L{EndpointStringError} for a bad
string, L{ConnectAttemptsError} when several addresses were tried and all
failed, and typed builders for the Twisted errors we raise.

It may import only L{txendpoints._net}, Twisted and the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.error import CannotListenError, ConnectError
from twisted.python.failure import Failure

from ._net import IPAddress, formatAddress

# Twisted's Failure and error constructors are untyped; typed aliases keep
# strict mypy honest everywhere else.
makeFailure: Callable[..., Failure] = Failure


class EndpointStringError(ValueError):
    """
    An endpoint string could not be parsed.

    The message names the prefix, the option and the offending value.

    @ivar prefix: The endpoint prefix, such as C{"tx-tcp6"}.
    @ivar option: The name of the option at fault, or L{None} when the
        problem is not with one option (too many positional arguments).
    @ivar value: The offending value as written (for an unknown option,
        the text given for it), or L{None} when there is none (a required
        option left out, a bad prefix).
    """

    # Tracebacks and logs name it as it is imported: txendpoints.
    __module__ = "txendpoints"

    def __init__(
        self,
        prefix: str,
        message: str,
        option: str | None = None,
        value: str | None = None,
    ) -> None:
        """
        @param prefix: The endpoint prefix.
        @param message: What is wrong, without the prefix.
        @param option: The option at fault, if any.
        @param value: The value at fault, if any.
        """
        super().__init__(f"{prefix}: {message}")
        self.prefix = prefix
        self.option = option
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls the class with args, the whole
        # message only, which __init__ cannot take; and a message may have
        # been added to since (a label, a hint), so it is kept as it is.
        return (_restoreError, (type(self), self.args), self.__dict__)


def _restoreError(cls: type[EndpointStringError], args: tuple[Any, ...]) -> Any:
    """
    Rebuild an L{EndpointStringError} from its class and C{args}, for
    pickling; its attributes come back as its state.
    """
    error = cls.__new__(cls)
    error.args = args
    return error


class ConnectAttemptsError(ConnectError):
    """
    Every address a name resolved to was tried, and every attempt failed.

    It is raised only when more than one address was tried; a single
    attempt's own error passes through unchanged.

    The error is also an instance of the class of the last attempt's
    failure, the error Twisted's own endpoints would have given, so that
    C{failure.check(ConnectionRefusedError)} or C{except TimeoutError} keeps
    working: C{ConnectAttemptsError(...)} returns an instance of a subclass
    of both, made once per class of last failure.  Where Python cannot
    derive a class from both (C{OSError} and its subclasses, such as
    L{DNSLookupError<twisted.internet.error.DNSLookupError>}), it is of this class only.

    @ivar host: The host that was being connected to, as given.
    @ivar port: The port number.
    @ivar failures: Each address tried, in order of attempt, with the
        L{Failure<twisted.python.failure.Failure>} it ended with.
    """

    __module__ = "txendpoints"

    def __new__(
        cls, host: str, port: int, failures: Sequence[tuple[IPAddress, Failure]]
    ) -> ConnectAttemptsError:
        last = failures[-1][1].value if failures else None
        if cls is ConnectAttemptsError and last is not None:
            cls = _matching(type(last))
        return super().__new__(cls, host, port, failures)

    def __init__(
        self, host: str, port: int, failures: Sequence[tuple[IPAddress, Failure]]
    ) -> None:
        """
        @param host: The host connected to.
        @param port: The port connected to.
        @param failures: Each address tried with its failure.
        """
        self.host = host
        self.port = port
        self.failures = list(failures)
        each = "; ".join(
            # Twisted's messages end in "."; the list supplies its own
            # separators.
            f"{formatAddress(address)}: {failure.getErrorMessage().rstrip('.')}"
            for address, failure in self.failures
        )
        super().__init__(  # type: ignore[no-untyped-call]
            string=(
                f"all {len(self.failures)} addresses of {host} port {port} "
                f"failed: {each}"
            )
        )

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        # Built again through ConnectAttemptsError, which picks the class
        # matching the last failure: the classes it makes cannot be found
        # by name.
        arguments = (self.host, self.port, self.failures)
        return (ConnectAttemptsError, arguments, self.__dict__)


#: The subclass of ConnectAttemptsError for each class of last failure.
_MATCHING: dict[type[BaseException], type[ConnectAttemptsError]] = {}


def _matching(last: type[BaseException]) -> type[ConnectAttemptsError]:
    """
    @return: A subclass of both L{ConnectAttemptsError} and C{last}, or
        L{ConnectAttemptsError} itself if it needs none or cannot have one.
    """
    if issubclass(ConnectAttemptsError, last) or not issubclass(last, Exception):
        return ConnectAttemptsError
    matching = _MATCHING.get(last)
    if matching is None:
        matching = ConnectAttemptsError
        if not issubclass(last, OSError):
            # OSError's own __new__ and layout do not mix with ours.
            try:
                matching = type(
                    "ConnectAttemptsError",
                    (ConnectAttemptsError, last),
                    {"__module__": ConnectAttemptsError.__module__},
                )
            except TypeError:
                pass
        _MATCHING[last] = matching
    return matching


def cannotListen(host: str, port: int, reason: str | OSError) -> CannotListenError:
    """
    Build Twisted's L{CannotListenError}, whose constructor is untyped.

    @param host: The address or name that could not be listened on.
    @param port: The port number.
    @param reason: The OS error, or a sentence saying why.
    @return: The error, to be raised.
    """
    return CannotListenError(host, port, reason)  # type: ignore[no-untyped-call]
