"""
The relay: one relayed connection (L{_relay}), the factory of a relay's
port (L{_factory}), the service that twistd, twist and C{txendpoints relay}
run (L{_service}), twist's options (L{_twist}), and the options both front
ends share (L{_options}), with what they turn on: access rules
(L{_access}), connect retry (L{_retry}), the idle timeout (L{_idle}), the
PROXY protocol header (L{_proxyheader}) and statistics (L{_stats}); the
splice(2) path (L{_join} chooses it, L{_splice} is the pump, L{_pipes} its
pipes), and C{--workers} (L{_workers} the parent, L{_worker} the worker).

This layer may import the string layer and below, never L{txendpoints._tools}.
"""
