"""
Twisted plugin dropin: C{twist tx-relay} (and C{twistd tx-relay}).

No logic lives here; see L{txendpoints._relay._twist}, which is imported
only when the command runs.
"""

from twisted.application.service import ServiceMaker

txRelay = ServiceMaker(  # type: ignore[no-untyped-call]
    "txendpoints relay",
    "txendpoints._relay._twist",
    "Relay bytes between two endpoint strings, with flow control.",
    "tx-relay",
)

__all__ = ["txRelay"]
