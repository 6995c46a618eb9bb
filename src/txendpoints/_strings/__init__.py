"""
Endpoint strings: value kinds (L{_values}), options and specs (L{_spec}),
quoting (L{_quoting}), the table of specs (L{_specs}), endpoints written back
(L{_describe}), the plugin objects (L{_parsers}) and the cached lookup
(L{_lookup}).

This layer may import the endpoint layers (L{txendpoints._client},
L{txendpoints._server}, L{txendpoints._stdio}) and below, never
L{txendpoints._relay} or L{txendpoints._tools}.
"""
