"""
TCP listeners: the ports, on one or many addresses or adopted sockets
(L{_ports}), and the endpoints (L{_endpoints}).

This layer may import L{txendpoints._net}, L{txendpoints._resolver} and
L{txendpoints._errors}, never the string layer or anything above it.
"""
