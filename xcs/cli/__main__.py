"""``python -m xcs.cli``: the ``xcs`` command without its console script."""

import sys

from xcs.cli import main

sys.exit(main())
