"""
C{python -m txendpoints}: the same as the C{txendpoints} command.
"""

from ._cli import console

console()
