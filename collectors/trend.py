"""Memory trends: a robust slope with a confidence, from a bounded sample.

The slope is the Theil–Sen estimator (the median of the slopes between every pair of
points), which a few outliers (a GC pause, a one-off allocation) cannot drag. It is
computed with numpy over at most :data:`MAX_POINTS` points: the pairwise slopes are
O(n²), so the sample is kept bounded by :class:`TrendWindow`, which halves its
resolution when full (keeps every other point) and so always spans the whole time
since warm-up. At 256 points that is 32,640 slopes, about a millisecond; scipy's
``theilslopes`` does the same arithmetic but would add a dependency for one function.

Confidence (0..1) is the product of two numbers, so a leak is told from noise *and*
from a one-off step:

* ``r2``: the share of the variance the Theil–Sen line explains (noise around a flat
  line explains nothing: near 0);
* ``consistency``: the Theil–Sen slopes of the first and second half of the window (by time),
  as a fraction of the overall slope (the smaller one, clipped to 0..1). A steady
  leak grows in both halves (near 1); a single step leaves at least one half flat
  (near 0), however large the overall slope looks.

The 95 % interval of the slope follows Sen (1968), from the normal approximation of
Kendall's statistic, as scipy does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_POINTS",
    "MIN_POINTS",
    "SLOPE_CONFIDENCE",
    "Trend",
    "TrendWindow",
    "fit_line",
    "fit_trend",
    "judged_slope",
    "theil_sen",
    "time_to_limit",
]

#: points a trend is computed from (the pairwise slopes grow with the square of this)
MAX_POINTS = 256
#: fewer points than this after warm-up: no trend yet (five points give ten pairwise slopes)
MIN_POINTS = 5
#: confidence from which a slope is a trend a gate judges as it is (see judged_slope)
SLOPE_CONFIDENCE = 0.5
#: two-sided 95 % normal quantile
Z95 = 1.959964
SECONDS_PER_HOUR = 3600.0
#: relative variance below which a series counts as constant
FLAT_EPS = 1e-12

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Trend:
    """A fitted trend; slopes are in units of ``y`` per hour."""

    slope: float
    intercept: float
    lo: float
    hi: float
    r2: float
    consistency: float
    confidence: float
    n: int


def _pair_slopes(t: Array, y: Array) -> Array:
    i, j = np.triu_indices(len(t), 1)
    dt = t[j] - t[i]
    keep = dt > 0
    slopes: Array = (y[j][keep] - y[i][keep]) / dt[keep]
    return slopes


def theil_sen(t: Array, y: Array) -> tuple[float, float, float, float]:
    """(slope, intercept, lo, hi) per unit of ``t``; NaNs when fewer than two distinct times."""
    slopes = _pair_slopes(t, y)
    if len(slopes) == 0:
        return (math.nan, math.nan, math.nan, math.nan)
    slopes.sort()
    slope = float(np.median(slopes))
    intercept = float(np.median(y - slope * t))
    n = len(t)
    spread = Z95 * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    m = len(slopes)
    hi_i = min(round((m + spread) / 2), m - 1)
    lo_i = max(round((m - spread) / 2) - 1, 0)
    return slope, intercept, float(slopes[lo_i]), float(slopes[hi_i])


def fit_trend(t: npt.ArrayLike, y: npt.ArrayLike) -> Trend | None:
    """Theil–Sen trend of ``y`` over ``t`` (seconds), with its confidence; None below MIN_POINTS."""
    ta = np.asarray(t, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(ta) & np.isfinite(ya)
    ta, ya = ta[ok], ya[ok]
    n = len(ta)
    if n < MIN_POINTS:
        return None
    if n > MAX_POINTS:
        idx = np.linspace(0, n - 1, MAX_POINTS).round().astype(np.intp)
        ta, ya = ta[idx], ya[idx]
        n = MAX_POINTS
    slope, intercept, lo, hi = theil_sen(ta, ya)
    if math.isnan(slope):
        return None
    ss_tot = float(np.sum((ya - ya.mean()) ** 2))
    ss_res = float(np.sum((ya - (intercept + slope * ta)) ** 2))
    # a constant series (up to rounding) has no variance to explain: no fit, not a perfect one
    flat = ss_tot <= FLAT_EPS * n * max(1.0, float(np.mean(ya)) ** 2)
    r2 = 0.0 if flat else min(1.0, max(0.0, 1.0 - ss_res / ss_tot))
    # the halves split the time span, not the points: samples come faster early in a stage
    first = ta <= (ta[0] + ta[-1]) / 2
    consistency = 0.0
    if slope != 0 and min(int(first.sum()), int((~first).sum())) >= 2:
        s1 = theil_sen(ta[first], ya[first])[0]
        s2 = theil_sen(ta[~first], ya[~first])[0]
        if not (math.isnan(s1) or math.isnan(s2)):
            consistency = min(1.0, max(0.0, min(s1 / slope, s2 / slope)))
    h = SECONDS_PER_HOUR
    return Trend(
        slope=slope * h,
        intercept=intercept,
        lo=lo * h,
        hi=hi * h,
        r2=r2,
        consistency=consistency,
        confidence=r2 * consistency,
        n=n,
    )


def judged_slope(trend: Trend) -> float | None:
    """The slope a gate judges: a per-hour slope over a few seconds turns a 0.3 MB step into
    300 MB/h, so noise must not read as a leak (a false FAIL) nor a leak as noise (a false PASS).

    The slope itself when the trend is confident (:data:`SLOPE_CONFIDENCE`: a steady rise, in
    both halves); 0 when its 95 % interval holds 0 (no evidence of any trend); otherwise
    None: not judged on this sample, the fit is not settled yet.
    """
    if trend.confidence >= SLOPE_CONFIDENCE:
        return trend.slope
    if trend.lo <= 0.0 <= trend.hi:
        return 0.0
    return None


def time_to_limit(current: float, slope_per_hour: float, limit: float) -> float | None:
    """Seconds until ``current`` reaches ``limit`` at ``slope_per_hour``; 0 when already over, None if never."""
    if current >= limit:
        return 0.0
    if not slope_per_hour > 0:
        return None
    return (limit - current) / slope_per_hour * SECONDS_PER_HOUR


class TrendWindow:
    """At most ``cap`` (t, y) points spanning everything added, by halving the resolution when full."""

    def __init__(self, cap: int = MAX_POINTS) -> None:
        self.cap = cap
        self.t: list[float] = []
        self.y: list[float] = []
        self._stride = 1
        self._skip = 0

    def add(self, t: float, y: float) -> None:
        if self._skip:
            self._skip -= 1
            return
        self.t.append(t)
        self.y.append(y)
        self._skip = self._stride - 1
        if len(self.t) >= self.cap:
            self.t, self.y = self.t[::2], self.y[::2]
            self._stride *= 2

    def clear(self) -> None:
        self.t.clear()
        self.y.clear()
        self._stride = 1
        self._skip = 0

    def __len__(self) -> int:
        return len(self.t)

    def fit(self) -> Trend | None:
        return fit_trend(self.t, self.y)


def fit_line(
    t: list[float], y: list[float], slope_per_hour: float | None, intercept: float | None = None
) -> list[float]:
    """The fitted line at times ``t`` (seconds): ``intercept + slope × t``, drawn over the RSS points.

    Without ``intercept`` (a replay: the timeline keeps the slope, not the fit) the line goes
    through the points the way Theil–Sen anchors it: the median of ``y − slope × t``.
    """
    if slope_per_hour is None or math.isnan(slope_per_hour) or not t or len(t) != len(y):
        return []
    per_s = slope_per_hour / SECONDS_PER_HOUR
    if intercept is None or math.isnan(intercept):
        intercept = float(np.median([v - per_s * x for x, v in zip(t, y, strict=True)]))
    return [intercept + per_s * x for x in t]
