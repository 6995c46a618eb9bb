"""
Standard I/O: the transport (L{_transport}) and the endpoints
(L{_endpoints}).

This layer may import L{txendpoints._net} and L{txendpoints._errors}, never
the string layer or anything above it.
"""
