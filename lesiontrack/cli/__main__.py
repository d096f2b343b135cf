"""``python -m lesiontrack.cli``: the ``lesiontrack`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
