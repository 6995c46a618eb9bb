"""
Endpoints written back as strings: L{describe} and the C{repr}, C{==} and
C{hash} of our endpoints, all from one L{Spec} and the option values.
"""

from __future__ import annotations

from typing import Any

from ._spec import Spec


class Described:
    """
    Mixin for endpoints built from a L{Spec}: C{repr}, equality and
    L{describe} all come from the option values.

    Subclasses set C{_spec} and implement L{Described._optionValues}.
    """

    _spec: Spec

    def _optionValues(self) -> dict[str, Any]:
        """
        @return: The endpoint's value for each option of C{_spec}.
        """
        raise NotImplementedError()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._spec.format(self._optionValues())}>"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Described)
        return bool(
            getattr(self, "_reactor", None) is getattr(other, "_reactor", None)
            and self._optionValues() == other._optionValues()
        )

    def __hash__(self) -> int:
        return hash((type(self), self._spec.format(self._optionValues())))


def describe(endpoint: object) -> str:
    """
    The canonical endpoint string that builds an endpoint equal to
    C{endpoint}.

    @param endpoint: An endpoint from this package.
    @return: Its string, such as C{"tx-tcp6:8080:interface=\\:\\:1"}.
    @raise TypeError: If C{endpoint} is not one of ours.
    """
    if not isinstance(endpoint, Described):
        raise TypeError(
            f"describe() takes a txendpoints endpoint, not {type(endpoint).__name__}"
        )
    return endpoint._spec.format(endpoint._optionValues())
