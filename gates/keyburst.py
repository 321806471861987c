"""A burst per key of a dict-of-counters field: ``failure_reasons.*[n1] burst(3) < 2 over 10s``.

A ``[[reports]]`` field that is a dict of counters (``failure_reasons = {"timeout": 3,
"bad_proof": 1}``) gives one series per key, ``failure_reasons.timeout[n1]``; the keys
come from the reports at run time. ``field.*[source]`` judges every key the same way the
``error_kinds`` burst judges error kinds: windows tumble every ``window`` seconds, a key
counts in a window when its samples there sum to at least ``burst(N)`` (each report's
count once, every report, however many arrive between two ticks), and the observed value
is the longest current streak of one key, which the detail names.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from soakwatch.gates.kinds import Burst, Frame
from soakwatch.gates.parse import Condition, Metric, Window

if TYPE_CHECKING:
    from soakwatch.core.recorder import Recorder

__all__ = ["KEY_WILDCARD", "KeyBurst", "is_key_wildcard"]

#: the key part of a metric that means "every key of this dict field"
KEY_WILDCARD = ".*["


def is_key_wildcard(name: str) -> bool:
    return KEY_WILDCARD in name and name.endswith("]")


class KeyBurst(Burst):
    """The same key of a dict-of-counters field bursting in consecutive windows."""

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        name = metric.names[0]
        at = name.index(KEY_WILDCARD)
        self._prefix, self._suffix = name[: at + 1], name[at + 2 :]  # "failure_reasons.", "[n1]"
        self._seq_of: dict[str, int] = {}

    @property
    def tracked(self) -> tuple[str, ...]:
        return ()

    def track(self, recorder: Recorder) -> None:
        """Keep every value of every key from its first report on."""
        recorder.track_matching(self._prefix, self._suffix)

    def _fresh_by_key(self, frame: Frame) -> dict[str, float]:
        """Each key's samples since the last tick, summed (by series name: the detail names it)."""
        out: dict[str, float] = {}
        for name in frame.recorder.tracked_matching(self._prefix, self._suffix):
            pts, self._seq_of[name] = frame.recorder.samples_since(name, self._seq_of.get(name, 0))
            if pts:
                out[name] = sum(v for _, v in pts if not math.isnan(v))
        return out

    def discard(self, frame: Frame) -> None:
        self._fresh_by_key(frame)  # counts before the delay are dropped

    def _count(self, frame: Frame) -> None:
        for key, n in self._fresh_by_key(frame).items():
            self._counts[key] = self._counts.get(key, 0) + n
