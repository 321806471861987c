"""Built-in rule kinds: each reads this tick's values and says whether its condition holds.

Kinds, by what they read::

    Judge
    ├── SeriesStat   a statistic of a series or of ``a - b`` (last/min/max/mean/sum/delta/count/pNN)
    │                RSS growth and slope, file size, Δ lines, lag percentile, any collector series
    ├── CounterRatio Δnumerator / Δdenominator over the window (error_ratio, ``failed / total``)
    ├── Latency      call-latency percentile or max from the recorder's histogram
    ├── Predicate    monotonic, unchanged, always (an invariant flag), never
    ├── Stall        seconds since the metric last changed
    ├── Burst        the same error kind in consecutive windows
    └── Alive        no unexpected process exit (worker_crash / process_exit events)

Every judge keeps bounded state: whole-run statistics are running aggregates, sliding
windows hold at most one entry per tick of the window, so a tick costs the same at
10 k calls and at 10 M calls.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from soakwatch.gates._acc import Acc
from soakwatch.gates._judge import (
    MAX_WINDOW_POINTS,
    SUSPENDED_GAPS,
    UNEXPECTED_EXIT_KINDS,
    Frame,
    Judge,
    Observation,
    SlidingCounts,
    cumulative_base,
    holds,
    margin_of,
    read_value,
)
from soakwatch.gates.parse import Condition, Metric, Window, percentile_in

if TYPE_CHECKING:
    from soakwatch.core.histogram import LatencyHistogram

__all__ = [
    "MAX_WINDOW_POINTS",
    "UNEXPECTED_EXIT_KINDS",
    "Alive",
    "Burst",
    "CounterRatio",
    "Frame",
    "Judge",
    "Latency",
    "Observation",
    "Predicate",
    "SeriesStat",
    "Stall",
    "holds",
    "margin_of",
]


class SeriesStat(Judge):
    """A window function of one series (or of ``a - b``) over the window, compared with a threshold.

    The function is the condition's statistic (``max < 400``) or the metric's (``max(a) < 400``).
    A tracked series is folded sample by sample (every report, every snapshot, once each).
    """

    def __init__(self, metric: Metric, condition: Condition, window: Window, func: str | None = None) -> None:
        super().__init__(metric, condition, window)
        stat = func or condition.stat or "last"
        pct = percentile_in(stat) if func else condition.percentile
        self.stat = stat
        self.trend = stat in ("last", "mean", "min", "max")
        self._acc = Acc(stat, pct, window.kind == "run", MAX_WINDOW_POINTS)

    def observe(self, frame: Frame) -> Observation:
        fresh = self.fresh(frame)
        for t, v in fresh:
            self._acc.fold(t, v)
        if self.window.kind != "run":
            self._acc.drop_until(frame.cutoff(self.window))
        if self.stat == "last" and len(fresh) > 1:
            # several samples since the last tick (snapshots, reports): each is judged, the worst
            # one speaks, so a +252 Δ followed by a 0 Δ within one tick is never overwritten unseen
            worst = min(fresh, key=lambda tv: self._margin(tv[1]))
            return self.compare(worst[1], self._acc.samples, f"at {worst[0]:.1f}s")
        return self.compare(self._acc.value(), self._acc.samples)

    def _margin(self, v: float) -> float:
        c = self.condition
        assert c.op is not None and c.threshold is not None
        return margin_of(c.op, v, c.threshold)


class CounterRatio(Judge):
    """Δnumerator / Δdenominator of two cumulative counters over the window.

    ``error_ratio`` is (errors + timeouts) / calls; ``failed[n] / total[n]`` any two counters.
    The sample count is the denominator's increase (calls, checks) in the window.
    """

    def __init__(
        self,
        metric: Metric,
        condition: Condition,
        window: Window,
        numerator: tuple[str, ...],
        denominator: str,
        zero_based: bool,
    ) -> None:
        super().__init__(metric, condition, window)
        self.numerator = numerator
        self.denominator = denominator
        self._points: deque[tuple[float, float, float]] = deque(maxlen=MAX_WINDOW_POINTS)
        if zero_based:
            self._points.append((-math.inf, 0.0, 0.0))
        self._base: tuple[float, float, float] | None = (-math.inf, 0.0, 0.0) if zero_based else None

    def discard(self, frame: Frame) -> None:
        # the counts after the delay start from the first point after it
        self._points.clear()
        self._base = None

    def observe(self, frame: Frame) -> Observation:
        rec = frame.recorder
        nums = [read_value(rec, n) for n in self.numerator]
        den = read_value(rec, self.denominator)
        if den is not None and all(n is not None for n in nums):
            self._points.append((frame.t, sum(n for n in nums if n is not None), den))
        pts = self._points
        if not pts:
            return Observation(None, 0, False)
        base, self._base = cumulative_base(pts, self.window, frame, self._base)
        _, num_now, den_now = pts[-1]
        d_den = den_now - base[2]
        if d_den <= 0:
            return Observation(None, 0, False)
        value = (num_now - base[1]) / d_den
        return self.compare(value, int(d_den), f"{num_now - base[1]:g} of {d_den:g}")


class Latency(Judge):
    """A call-latency percentile (or max) in ms: the recorder's histogram for the run, a sliding sum otherwise."""

    def __init__(self, metric: Metric, condition: Condition, window: Window, buckets: int) -> None:
        super().__init__(metric, condition, window)
        self._pct = condition.percentile
        self._slide = SlidingCounts(buckets) if window.kind != "run" else None
        #: whole-run window of a gate with a delay: the counts folded before the delay, left out
        self._before: npt.NDArray[np.int64] | None = None

    def discard(self, frame: Frame) -> None:
        if self._slide is None:
            self._before = frame.recorder.hist.counts.astype(np.int64)

    def observe(self, frame: Frame) -> Observation:
        hist = frame.recorder.hist
        win = self._slide
        if win is None:
            return self._whole_run(hist)
        if frame.latency_new is not None and len(frame.latency_new[0]):
            win.add(frame.t, *frame.latency_new)
        n = win.drop_until(frame.cutoff(self.window))
        if n == 0:
            return Observation(None, 0, False)
        dense = win.dense
        value = (hist.max_of(dense) if self._pct is None else hist.percentiles([self._pct], dense)[0]) / 1000.0
        return self.compare(value, n)

    def _whole_run(self, hist: LatencyHistogram) -> Observation:
        """The run's histogram, less the calls that ended before the gate's delay."""
        if self._before is not None:
            counts = hist.counts.astype(np.int64) - self._before
            n = int(counts.sum())
            if n == 0:
                return Observation(None, 0, False)
            value = hist.max_of(counts) if self._pct is None else hist.percentiles([self._pct], counts)[0]
            return self.compare(value / 1000.0, n)
        n = hist.total
        if n == 0:
            return Observation(None, 0, False)
        value = hist.hdr.get_max_value() if self._pct is None else hist.percentiles([self._pct])[0]
        return self.compare(value / 1000.0, n)


class Predicate(Judge):
    """Every sample must satisfy a predicate: monotonic (never decreases), unchanged, always (≠ 0), never (= 0).

    The observed value is the worst violation in the window (the largest drop for
    monotonic, the last offending value otherwise), or the current value when none.
    """

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self._prev: float | None = None
        self._first: float | None = None
        self._n = 0
        self._bad: deque[tuple[float, float, str]] = deque(maxlen=MAX_WINDOW_POINTS)
        self._worst: tuple[float, float, str] | None = None

    def _violation(self, v: float) -> tuple[float, str] | None:
        kind = self.condition.kind
        if kind == "monotonic":
            if self._prev is not None and v < self._prev:
                return self._prev - v, f"dropped {self._prev:g} → {v:g}"
            return None
        if kind == "unchanged":
            return (v, f"changed {self._first:g} → {v:g}") if v != self._first else None
        if kind == "always":
            return (v, "was false (0)") if v == 0 else None
        return (v, f"was {v:g} (must stay 0)") if v != 0 else None

    def observe(self, frame: Frame) -> Observation:
        for t, v in self.fresh(frame):
            self._n += 1
            if self._first is None:
                self._first = v
            bad = self._violation(v)
            self._prev = v
            if bad is not None:
                entry = (t, bad[0], f"{bad[1]} at {t:.1f}s")
                if self.window.kind == "run":
                    if self._worst is None or self._is_worse(entry, self._worst):
                        self._worst = entry
                else:
                    self._bad.append(entry)
        if self._n == 0:
            return Observation(None, 0, False)
        if self.window.kind == "run":
            worst = self._worst
        else:
            cutoff = frame.cutoff(self.window)
            while self._bad and self._bad[0][0] <= cutoff:
                self._bad.popleft()
            worst = None
            for e in self._bad:
                if worst is None or self._is_worse(e, worst):
                    worst = e
        if worst is None:
            current = 0.0 if self.condition.kind == "monotonic" else self._prev
            return Observation(current, self._n, False)
        return Observation(worst[1], self._n, True, detail=worst[2])

    def _is_worse(self, a: tuple[float, float, str], b: tuple[float, float, str]) -> bool:
        # the largest drop for monotonic; the latest offence otherwise
        return a[1] > b[1] if self.condition.kind == "monotonic" else a[0] >= b[0]


class Stall(Judge):
    """Seconds since the metric last changed, compared with the longest stall allowed."""

    trend = True

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self._last: float | None = None
        self._changed_at = 0.0
        self._n = 0
        self._prev_t: float | None = None
        self._usual_gap = math.inf  # the shortest time between two frames: the tick

    def observe(self, frame: Frame) -> Observation:
        ended = 0.0  # a stall that ended at this frame, as far as the frames can tell
        gap = frame.t - self._prev_t if self._prev_t is not None else 0.0
        if gap > 0:
            self._usual_gap = min(self._usual_gap, gap)
        for t, v in self.fresh(frame):
            self._n += 1
            if self._last is None or v != self._last:
                if self._last is not None and self._prev_t is not None:
                    # nothing was seen between the frames; a gap far beyond the tick means the monitor
                    # itself was suspended (SIGSTOP) and nothing progressed in it
                    ended = self._prev_t - self._changed_at + (gap if gap > SUSPENDED_GAPS * self._usual_gap else 0.0)
                self._changed_at = t
                self._last = v
        self._prev_t = frame.t
        if self._last is None:
            return Observation(None, 0, False)
        stalled = max(frame.t - self._changed_at, ended)
        detail = f"no change since {self._changed_at:.1f}s (value {self._last:g})"
        if ended > frame.t - self._changed_at:
            detail = f"no change for {ended:.1f}s until {frame.t:.1f}s (the monitor was suspended)"
        obs = self.compare(stalled, self._n, detail)
        return Observation(obs.value, obs.samples, obs.breached, obs.margin, obs.detail, forecast=obs.margin)


class Burst(Judge):
    """The same error kind in consecutive windows: observed is the longest current streak of one kind.

    A window counts for a kind when that kind raised at least ``burst(N)`` errors in it.
    Windows tumble every ``window`` seconds; samples are the windows completed.
    """

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self._seen: dict[str, int] = {}
        self._counts: dict[str, float] = {}
        self._streak: dict[str, int] = {}
        self._start: float | None = None
        self._windows = 0

    def discard(self, frame: Frame) -> None:
        for k in frame.recorder.kinds.values():
            self._seen[k.kind] = k.count

    def _count(self, frame: Frame) -> None:
        """Add this tick's errors to the current window's count of each kind."""
        for k in frame.recorder.kinds.values():
            d = k.count - self._seen.get(k.kind, 0)
            if d:
                self._seen[k.kind] = k.count
                self._counts[k.kind] = self._counts.get(k.kind, 0) + d

    def observe(self, frame: Frame) -> Observation:
        self._count(frame)
        if self._start is None:
            self._start = frame.t
        if frame.t - self._start >= self.window.size:
            need = self.condition.burst_min
            for kind in set(self._streak) | set(self._counts):
                if self._counts.get(kind, 0) >= need:
                    self._streak[kind] = self._streak.get(kind, 0) + 1
                else:
                    self._streak.pop(kind, None)
            self._counts.clear()
            self._windows += 1
            self._start = frame.t
        if self._windows == 0:
            return Observation(None, 0, False)
        kind, streak = max(self._streak.items(), key=lambda kv: kv[1], default=("", 0))
        detail = f"{kind} in {streak} consecutive {self.window.size:g}s windows" if streak else ""
        return self.compare(float(streak), self._windows, detail)


class Alive(Judge):
    """No process exits unexpectedly: counts worker_crash / process_exit events in the window."""

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self._exits: deque[tuple[float, str]] = deque(maxlen=MAX_WINDOW_POINTS)
        self._total = 0
        self._last = ""
        #: (processes alive now, processes expected), set by the evaluator each tick
        self.census: tuple[int, int] | None = None

    def on_exit(self, t: float, message: str) -> None:
        """An unexpected exit was reported (called from the event listener)."""
        self._exits.append((t, message))

    def discard(self, frame: Frame) -> None:
        while self._exits and self._exits[0][0] <= frame.t:
            self._exits.popleft()

    def observe(self, frame: Frame) -> Observation:
        if self.window.kind == "run":
            while self._exits:
                self._total += 1
                self._last = f"{self._exits.popleft()[1]}"
            n = self._total
        else:
            cutoff = frame.cutoff(self.window)
            while self._exits and self._exits[0][0] <= cutoff:
                self._exits.popleft()
            n = len(self._exits)
            self._last = self._exits[-1][1] if self._exits else ""
        shown = f"{self.census[0]}/{self.census[1]} alive" if self.census is not None else ""
        detail = "; ".join(x for x in (shown, f"{n} exited" if n else "", self._last if n else "") if x)
        return Observation(float(n), 1, n > 0, detail=detail)

    @property
    def shown(self) -> str:
        """``3/3 alive, 0 exits``: what a view shows (a bare exit count reads as "nothing alive")."""
        exits = f"{self._total if self.window.kind == 'run' else len(self._exits)} exits"
        return f"{self.census[0]}/{self.census[1]} alive, {exits}" if self.census is not None else exits
