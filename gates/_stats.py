"""Small statistics helpers for the judges: exact percentiles of a window, a bounded whole-run histogram."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["LogHistogram", "percentile_of", "slope"]

#: relative width of a LogHistogram bucket: whole-run percentiles of a series are within 1 %
LOG_PRECISION = 0.01
#: values closer to zero than this share the zero bucket
ZERO_BAND = 1e-9


def percentile_of(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (the smallest value with pct % at or below it)."""
    n = len(sorted_values)
    rank = max(1, math.ceil(pct / 100.0 * n))
    return sorted_values[min(rank, n) - 1]


class LogHistogram:
    """Counts of values in logarithmic buckets: memory grows with the range of values, not their number."""

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._n = 0
        self._log = math.log1p(LOG_PRECISION)

    def _key(self, v: float) -> int:
        if abs(v) < ZERO_BAND:
            return 0
        k = math.floor(math.log(abs(v) / ZERO_BAND) / self._log) + 1
        return k if v > 0 else -k

    def _value(self, key: int) -> float:
        if key == 0:
            return 0.0
        v = ZERO_BAND * math.exp(abs(key) * self._log)
        return v if key > 0 else -v

    def add(self, v: float) -> None:
        k = self._key(v)
        self._counts[k] = self._counts.get(k, 0) + 1
        self._n += 1

    def percentile(self, pct: float) -> float | None:
        if self._n == 0:
            return None
        rank = max(1, math.ceil(pct / 100.0 * self._n))
        acc = 0
        for k in sorted(self._counts):
            acc += self._counts[k]
            if acc >= rank:
                return self._value(k)
        return self._value(max(self._counts))


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope (value per second) of (t, value) points, or None with fewer than 3."""
    n = len(points)
    if n < 3:
        return None
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if den <= 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in points) / den
