"""
The relay: one relayed connection (L{_relay}), the factory of a relay's
port (L{_factory}), and the service that twistd, twist and
C{txendpoints relay} run (L{_service}).

This layer may import the string layer and below, never L{txendpoints._tools}.
"""
