"""Min/max-preserving downsampling of a timeline, so a day of one-second rows fits in a page.

The rows are cut into equal buckets of consecutive rows; each bucket becomes two points,
at its first and its last row's time, holding the smallest and the largest value of each
series in it (empty cells ignored; a bucket with none stays empty). A one-second spike in a
24-hour run is the largest value of its bucket, so it is still drawn, at most one bucket
(24 h / 750 ≈ two minutes) away from where it happened. Values keep 5 significant digits,
times milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["MAX_POINTS", "Downsampled", "downsample"]

#: points per series in a page: 750 min/max buckets keep a 24-hour, 100-series timeline
#: well under 2 MB of JSON
MAX_POINTS = 1500
#: significant digits kept in the page (the run directory keeps the full values)
DIGITS = 5

Downsampled = tuple[list[float], dict[str, list[float | None]]]


def _round(v: float) -> float | None:
    if not math.isfinite(v):
        return None
    return float(f"{v:.{DIGITS}g}")


def _time(t: float) -> float:
    """Times keep milliseconds, whatever their size (two ticks of a long run stay apart)."""
    return round(t, 3) if math.isfinite(t) else 0.0


def _plain(times: Sequence[float], columns: Mapping[str, Sequence[float]]) -> Downsampled:
    return [_time(t) for t in times], {k: [_round(v) for v in col] for k, col in columns.items()}


def downsample(
    times: Sequence[float], columns: Mapping[str, Sequence[float]], max_points: int = MAX_POINTS
) -> Downsampled:
    """``(x, {name: values})`` with at most ``max_points`` points (NaN becomes None)."""
    n = len(times)
    if n <= max_points:
        return _plain(times, columns)
    buckets = max(1, max_points // 2)
    starts = np.linspace(0, n, buckets + 1).astype(np.int64)[:-1]
    starts = np.unique(starts)
    ends = np.append(starts[1:], n) - 1
    t = np.asarray(times, dtype=np.float64)
    x = np.empty(2 * len(starts))
    x[0::2], x[1::2] = t[starts], t[ends]
    # a bucket of one row has its two points at the same time; nudge the second so x stays increasing
    same = x[1::2] <= x[0::2]
    x[1::2][same] = x[0::2][same] + 1e-3
    out: dict[str, list[float | None]] = {}
    for name, col in columns.items():
        a = np.asarray(col, dtype=np.float64)
        with np.errstate(all="ignore"):  # an all-empty bucket is NaN, as it should be
            lo = np.fmin.reduceat(a, starts)
            hi = np.fmax.reduceat(a, starts)
        both = np.empty(2 * len(starts))
        both[0::2], both[1::2] = lo, hi
        out[name] = [_round(v) for v in both.tolist()]
    return [_time(v) for v in x.tolist()], out
