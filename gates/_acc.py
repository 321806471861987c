"""One series folded sample by sample into a window function: last, min, max, mean, sum,
delta, rate, count or a percentile, over the whole run or a sliding window.

Whole-run values are running aggregates (a whole-run percentile comes from a bounded
log histogram, within 1 %); a sliding window keeps at most one entry per sample in the
window, bounded by :data:`~soakwatch.gates.kinds.MAX_WINDOW_POINTS`.
"""

from __future__ import annotations

import math
from collections import deque

from soakwatch.gates._stats import LogHistogram, percentile_of

__all__ = ["FUNCTIONS", "Acc"]

#: window functions of a series (besides pNN)
FUNCTIONS = ("last", "min", "max", "mean", "sum", "delta", "rate", "count")


class Acc:
    """A window function of one series; ``fold`` every sample, ``value`` after dropping old ones."""

    def __init__(self, func: str, pct: float | None, whole_run: bool, bound: int) -> None:
        self.func = func
        self.pct = pct
        self.whole_run = whole_run
        self._points: deque[tuple[float, float]] = deque(maxlen=bound)
        self._sum = 0.0
        self.n = 0
        self._total = 0.0
        self._min = math.inf
        self._max = -math.inf
        self._first: tuple[float, float] | None = None
        self._last: tuple[float, float] | None = None
        self._hist = LogHistogram() if pct is not None and whole_run else None

    def fold(self, t: float, v: float) -> None:
        if self.whole_run:
            self.n += 1
            self._total += v
            self._min = min(self._min, v)
            self._max = max(self._max, v)
            if self._first is None:
                self._first = (t, v)
            self._last = (t, v)
            if self._hist is not None:
                self._hist.add(v)
            return
        if len(self._points) == self._points.maxlen:
            self._sum -= self._points[0][1]
        self._points.append((t, v))
        self._sum += v

    def drop_until(self, cutoff: float) -> None:
        """Forget the samples at or before ``cutoff`` (sliding windows only)."""
        pts = self._points
        while pts and pts[0][0] <= cutoff:
            self._sum -= pts.popleft()[1]

    @property
    def samples(self) -> int:
        return self.n if self.whole_run else len(self._points)

    def value(self) -> float | None:
        if self.whole_run:
            return self._run_value()
        return self._window_value()

    def _run_value(self) -> float | None:
        if self.n == 0 or self._first is None or self._last is None:
            return None
        if self._hist is not None and self.pct is not None:
            return self._hist.percentile(self.pct)
        (t0, v0), (t1, v1) = self._first, self._last
        return _pick(self.func, v1, self._min, self._max, self._total, self.n, v1 - v0, t1 - t0)

    def _window_value(self) -> float | None:
        pts = self._points
        if not pts:
            return None
        if self.pct is not None:
            return percentile_of(sorted(v for _, v in pts), self.pct)
        (t0, v0), (t1, v1) = pts[0], pts[-1]
        lo = min(v for _, v in pts) if self.func == "min" else 0.0
        hi = max(v for _, v in pts) if self.func == "max" else 0.0
        return _pick(self.func, v1, lo, hi, self._sum, len(pts), v1 - v0, t1 - t0)


def _pick(
    func: str, last: float, lo: float, hi: float, total: float, n: int, delta: float, span: float
) -> float | None:
    if func == "rate":
        return delta / span if span > 0 else None
    return {
        "last": last,
        "min": lo,
        "max": hi,
        "mean": total / n,
        "sum": total,
        "delta": delta,
        "count": float(n),
    }[func]
