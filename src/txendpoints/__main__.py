"""
C{python -m txendpoints}: the same as the C{txendpoints} command.
"""

import sys

from ._cli import main

sys.exit(main())
