"""
TCP socket options: the value endpoints take them in
(L{txendpoints._sockopts._options}) and the code that sets them
(L{txendpoints._sockopts._apply}).

It may import only its own modules.
"""

from ._apply import (
    Setting,
    apply,
    createSocket,
    multipathWorks,
    perConnection,
    socketSettings,
)
from ._options import (
    BUFFER_SIZE,
    DEVICE_NAME_MAX,
    FAST_OPEN_QUEUE,
    KEEP_COUNT,
    KEEP_SECONDS,
    NO_OPTIONS,
    PLATFORMS,
    USER_TIMEOUT_MAX,
    Direction,
    OptionError,
    TCPOptions,
    checkFor,
    platformsOf,
)

__all__ = [
    "BUFFER_SIZE",
    "DEVICE_NAME_MAX",
    "FAST_OPEN_QUEUE",
    "KEEP_COUNT",
    "KEEP_SECONDS",
    "NO_OPTIONS",
    "PLATFORMS",
    "USER_TIMEOUT_MAX",
    "Direction",
    "OptionError",
    "Setting",
    "TCPOptions",
    "apply",
    "checkFor",
    "createSocket",
    "multipathWorks",
    "perConnection",
    "platformsOf",
    "socketSettings",
]
