"""``python -m cs231n.datasets``: see :mod:`cs231n.datasets._cli`."""
import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
