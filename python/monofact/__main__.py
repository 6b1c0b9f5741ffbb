"""``python -m monofact`` runs the command line."""

import sys

from monofact.cli import main

sys.exit(main())
