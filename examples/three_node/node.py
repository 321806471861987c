"""The three-node example's node program; it ships inside soakwatch (``soakwatch.profiles.examples.node``)."""

import sys

from soakwatch.profiles.examples.node import main

if __name__ == "__main__":
    sys.exit(main())
