"""
The C{txendpoints} command (L{_cli}), the catalogue of installed endpoint
types (L{_catalog}) and the one-line plans of C{check} (L{_plan}).

The top layer: it may import every other.
"""
