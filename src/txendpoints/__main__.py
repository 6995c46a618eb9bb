"""
C{python -m txendpoints}: the same as the C{txendpoints} command.
"""

from ._tools._cli import console

console()
