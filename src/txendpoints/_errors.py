"""
The errors this package raises of its own: L{EndpointStringError} for a bad
string, L{ConnectAttemptsError} when several addresses were tried and all
failed, and typed builders for the Twisted errors we raise.

It may import only L{txendpoints._net}, Twisted and the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    @ivar value: The offending value as written, or L{None}.
    """

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


class ConnectAttemptsError(ConnectError):
    """
    Every address a name resolved to was tried, and every attempt failed.

    It is raised only when more than one address was tried; a single
    attempt's own error passes through unchanged.

    @ivar host: The host that was being connected to, as given.
    @ivar port: The port number.
    @ivar failures: Each address tried, in order of attempt, with the
        L{Failure<twisted.python.failure.Failure>} it ended with.
    """

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


def cannotListen(host: str, port: int, reason: str | OSError) -> CannotListenError:
    """
    Build Twisted's L{CannotListenError}, whose constructor is untyped.

    @param host: The address or name that could not be listened on.
    @param port: The port number.
    @param reason: The OS error, or a sentence saying why.
    @return: The error, to be raised.
    """
    return CannotListenError(host, port, reason)  # type: ignore[no-untyped-call]
