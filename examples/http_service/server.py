"""The example chat service; it ships inside soakwatch (``soakwatch.profiles.examples.chat_server``)."""

import sys

from soakwatch.profiles.examples.chat_server import main

if __name__ == "__main__":
    sys.exit(main())
