"""soakwatch: run a stress, pressure or soak test stage, watch it live, judge it, keep the evidence.

The core package never imports textual; ``tui/`` depends on it, never the reverse.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
