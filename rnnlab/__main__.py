"""``python -m rnnlab`` and ``torchrun -m rnnlab``: the command line."""

import sys

from rnnlab.cli import main

sys.exit(main())
