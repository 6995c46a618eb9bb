"""
TCP socket options: the value endpoints take them in
(L{txendpoints._sockopts._options}) and the code that sets them
(L{txendpoints._sockopts._apply}).  It may import only its own modules.
"""
