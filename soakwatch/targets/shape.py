"""The arrival schedule of a ``[[shape]]`` stage: :class:`~soakwatch.targets.schedule.Arrivals` whose
rate follows segments (constant, a linear ramp, or 0 for an idle gap).

Each segment plans its own arrivals from its start: a constant rate ``r`` for ``D`` seconds
plans ``ceil(r * D)`` arrivals at ``k / r``; a ramp from ``r0`` to ``r1`` plans
``ceil((r0 + r1) / 2 * D)`` arrivals where the ramp's cumulative count ``r0 t + (r1 - r0) t² / 2D``
reaches ``k``; an idle segment plans none. So the calls of a segment are exactly its planned
count (2 s at 20/s: 40 calls, then none during a gap), whatever the rounding of the others.
Pauses shift the whole schedule as they do for a fixed rate; after the last segment nothing
falls due (:data:`NEVER`), so the runner stops.
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections.abc import Sequence

from soakwatch.targets.schedule import Arrivals, Segmented

__all__ = ["NEVER", "Segment", "ShapedArrivals", "planned_arrivals"]

#: (seconds, rate at its start, rate at its end)
Segment = tuple[float, float, float]
#: the due time of an arrival past the end of the shape: never
NEVER = 2**62
#: a segment's planned count is rounded up only past this (10.000000001 planned is 10, not 11)
_EPS = 1e-9


def planned_arrivals(seg: Segment) -> int:
    """How many arrivals one segment plans."""
    secs, r0, r1 = seg
    return max(0, math.ceil((r0 + r1) / 2 * secs - _EPS))


def _offset(seg: Segment, k: int) -> float:
    """Seconds from the segment's start to its arrival ``k``."""
    secs, r0, r1 = seg
    if r0 == r1:
        return k / r0
    a = (r1 - r0) / (2 * secs)  # cumulative count N(t) = r0 t + a t², solved for N(t) = k
    return (-r0 + math.sqrt(max(0.0, r0 * r0 + 4 * a * k))) / (2 * a)


class ShapedArrivals(Segmented, Arrivals):
    """Due times of a rate that follows segments, shifted by pauses; thread-safe."""

    def __init__(self, segments: Sequence[Segment], grace_s: float) -> None:
        peak = max(max(r0, r1) for _, r0, r1 in segments)
        super().__init__(peak, grace_s)
        self._lay_out(segments)
        #: index of the first arrival of each segment
        self._first = [0, *itertools.accumulate(planned_arrivals(seg) for seg in self.segments)]
        self.total = self._first.pop()

    def offset_ns(self, i: int) -> int:
        """Nanoseconds from call 0 to arrival ``i`` (:data:`NEVER` past the shape's end)."""
        if i >= self.total:
            return NEVER
        k = bisect.bisect_right(self._first, i) - 1
        while planned_arrivals(self.segments[k]) == 0:  # an idle segment shares its first index with the next
            k += 1
        return self._start_ns[k] + int(_offset(self.segments[k], i - self._first[k]) * 1e9)

    def due(self, i: int) -> int:
        off = self.offset_ns(i)
        return NEVER if off == NEVER else self.origin + self.shift + off

    def due_by(self, t: int) -> int:
        t, base = self.clamped(t)
        if t < base:
            return 0
        lo, hi = 0, self.total  # arrivals due at or before t: the first index due after t
        while lo < hi:
            mid = (lo + hi) // 2
            if self.offset_ns(mid) <= t - base:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def late_count(self, i: int, now: int) -> int:
        return max(1, self.due_by(now - self.grace) - i)

    def rate_at(self, now: int | None = None) -> float:
        """The planned rate at ``now`` (0 in an idle segment and after the shape's end)."""
        rate = self._value_at(self.elapsed(time.perf_counter_ns() if now is None else now))
        return 0.0 if rate is None else rate
