"""
Endpoints written back as strings: which spec each settings class belongs
to, L{describe}, and the C{repr} of our endpoints, which reads like the
string that builds them.

It may import the spec table, L{txendpoints._settings} and the endpoint
layers.
"""

from __future__ import annotations

from typing import Any, Final

from attrs import asdict

from .._settings import (
    Configured,
    HostClientSettings,
    HostServerSettings,
    StdioClientSettings,
    StdioServerSettings,
    TCP4ClientSettings,
    TCP4ServerSettings,
    TCP6ClientSettings,
    TCP6ServerSettings,
    registerWriter,
)
from ._spec import Spec
from ._specs import (
    HOST_CLIENT,
    HOST_SERVER,
    STDIO_CLIENT,
    STDIO_SERVER,
    TCP4_CLIENT,
    TCP4_SERVER,
    TCP6_CLIENT,
    TCP6_SERVER,
)

#: The spec of each settings class: every field is an option of the same
#: name, and every option a field (a test holds them to it).
SPEC_OF_SETTINGS: Final[dict[type, Spec]] = {
    TCP4ServerSettings: TCP4_SERVER,
    TCP6ServerSettings: TCP6_SERVER,
    HostServerSettings: HOST_SERVER,
    StdioServerSettings: STDIO_SERVER,
    TCP4ClientSettings: TCP4_CLIENT,
    TCP6ClientSettings: TCP6_CLIENT,
    HostClientSettings: HOST_CLIENT,
    StdioClientSettings: STDIO_CLIENT,
}


def settingsValues(settings: object) -> dict[str, Any]:
    """
    The option values of some settings.

    @param settings: Settings of one of our endpoints.
    @return: A value for each option of its spec, by name; the fields of
        its L{TCPOptions<txendpoints.TCPOptions>} are options of their own.
    """
    values = asdict(settings, recurse=False)  # type: ignore[arg-type]
    options = values.pop("options", None)
    if options is not None:
        values.update(asdict(options))
    return values


def _writer(spec: Spec) -> Any:
    return lambda settings: spec.format(settingsValues(settings))


for _type, _spec in SPEC_OF_SETTINGS.items():
    registerWriter(_type, _writer(_spec))


def specOf(endpoint: object) -> Spec | None:
    """
    The spec of one of our endpoints.

    @param endpoint: Any endpoint.
    @return: Its spec, or L{None} if it is not one of ours.
    """
    if not isinstance(endpoint, Configured):
        return None
    return SPEC_OF_SETTINGS.get(type(endpoint._settings))


def specOfClass(endpointType: type) -> Spec | None:
    """
    The spec of one of our endpoint classes, for the string reference.

    @param endpointType: Any class.
    @return: Its spec, or L{None} if it is not one of our endpoint classes.
    """
    settingsType = getattr(endpointType, "_Settings", None)
    if not (isinstance(endpointType, type) and issubclass(endpointType, Configured)):
        return None
    return SPEC_OF_SETTINGS.get(settingsType)  # type: ignore[arg-type]


def describe(endpoint: object) -> str:
    """
    The canonical endpoint string that builds an endpoint equal to
    C{endpoint}.

    @param endpoint: An endpoint from this package.
    @return: Its string, such as C{"tx-tcp6:8080:interface=\\:\\:1"}.
    @raise TypeError: If C{endpoint} is not one of ours.
    """
    spec = specOf(endpoint)
    if spec is None:
        raise TypeError(
            f"describe() takes a txendpoints endpoint, not {type(endpoint).__name__}"
        )
    assert isinstance(endpoint, Configured)
    return spec.format(settingsValues(endpoint._settings))
