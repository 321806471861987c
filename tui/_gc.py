"""Garbage collection tuned for the TUI's steady state.

Measured on ``soakwatch demo`` in tmux at 160×48: about a fifth of the UI's CPU went to
the cyclic garbage collector, most of it scanning the hundred thousand long-lived objects
of Textual, Rich and the app again and again. Once the dashboard is up, those objects are
moved out of the collector's way (``gc.freeze``) and the youngest generation is collected
less often (each frame makes thousands of short-lived strips, styles and segments that
die young, so fewer of them are promoted and scanned again). Both are undone when the
app ends, so a process that runs the app (a test, an embedding) gets its settings back.
"""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "QuietGC"]

#: allocations between two collections of the youngest generation (Python's default is 700)
GEN0_THRESHOLD = 5000


class QuietGC:
    """Freezes what exists once the dashboard is up and raises the youngest generation's threshold."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None

    def settle(self) -> None:
        """Call once the dashboard is shown: what exists now lives as long as the app."""
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(max(GEN0_THRESHOLD, self._saved[0]), *self._saved[1:])

    def restore(self) -> None:
        """Undo :meth:`settle` (the app is ending)."""
        if self._saved is None:
            return
        gc.unfreeze()
        gc.set_threshold(*self._saved)
        self._saved = None
