"""
TCP clients: name resolution for Happy Eyeballs (L{_resolve}), the race of
staggered attempts (L{_race}, L{_attempt}), and the endpoints (L{_endpoints}).

This layer may import L{txendpoints._net}, L{txendpoints._resolver} and
L{txendpoints._errors}, never the string layer or anything above it.
"""
