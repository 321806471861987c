"""``python -m soakwatch``."""

import sys

from soakwatch.cli import main

sys.exit(main())
