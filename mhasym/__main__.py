"""``python -m mhasym``: the same as the ``mhasym`` command."""

import sys

from mhasym.cli import main

sys.exit(main())
