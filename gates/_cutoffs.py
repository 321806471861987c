"""Window cutoffs: the time each sliding window (in seconds or in calls) starts at, tick by tick."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from soakwatch.gates.kinds import MAX_WINDOW_POINTS
from soakwatch.gates.parse import Window

if TYPE_CHECKING:
    from soakwatch.core.recorder import Recorder

__all__ = ["WindowCutoffs"]


class WindowCutoffs:
    """The sliding windows of a set of gates, and the calls per tick that the call-count windows need."""

    def __init__(self, windows: Iterable[Window]) -> None:
        self._windows = sorted({w for w in windows if w.kind != "run"}, key=str)
        self._max_calls = max((w.size for w in self._windows if w.kind == "calls"), default=0.0)
        self._calls: deque[tuple[float, float]] = deque(maxlen=MAX_WINDOW_POINTS)
        self._calls_total = 0.0

    def cutoffs(self, t: float, rec: Recorder, final: bool = False) -> dict[Window, float]:
        """Each window's cutoff at ``t``: samples with a later time are inside it."""
        if self._max_calls and not final:
            d = rec.value("calls_delta") or 0.0
            if d > 0:
                if len(self._calls) == self._calls.maxlen:
                    self._calls_total -= self._calls[0][1]
                self._calls.append((t, d))
                self._calls_total += d
            while len(self._calls) > 1 and self._calls_total - self._calls[0][1] >= self._max_calls:
                self._calls_total -= self._calls.popleft()[1]
        out: dict[Window, float] = {}
        for w in self._windows:
            if w.kind == "time":
                out[w] = t - w.size
            else:
                out[w] = self._calls_cutoff(w.size)
        return out

    def _calls_cutoff(self, n: float) -> float:
        acc = 0.0
        for ts, c in reversed(self._calls):
            acc += c
            if acc >= n:
                return math.nextafter(ts, -math.inf)
        return -math.inf
