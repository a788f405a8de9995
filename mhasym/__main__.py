"""``python -m mhasym``: the same as the ``mhasym`` command."""

import sys

from .cli import main

sys.exit(main())
