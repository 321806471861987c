"""Gates on streamed answers (``[http] stream = true``): token-time percentiles and goodput.

- ``ttft p95 < 500ms``, ``itl p99 < 100ms``, ``tpot p50 < 50ms``, ``sched_ttft p95 < 1s``: a
  percentile (or max) of the phase histogram the HTTP target fills per call (ITL: every gap
  between two content chunks), over the run or a sliding window, like ``latency``;
- ``goodput(ttft < 500ms, tpot < 50ms) > 95%``: the share of calls whose stream met every
  objective, of *all* calls in the window (a failed or cut stream is a call that missed them).
  Objectives: ``ttft``, ``tpot``, ``e2el`` (the whole call) and ``sched_ttft`` (TTFT from the
  scheduled start, under an arrival rate; the same as ``ttft`` in the closed model). A call of
  one output token has no TPOT and meets a ``tpot`` objective (as vLLM's benchmark counts it).
"""

from __future__ import annotations

import math
from collections import deque

from soakwatch.gates._judge import (
    MAX_WINDOW_POINTS,
    Frame,
    Judge,
    Observation,
    SlidingCounts,
    cumulative_base,
    holds,
    read_value,
)
from soakwatch.gates.parse import Condition, Metric, Window
from soakwatch.targets.http_stream import STREAM_PHASES, STREAM_RECORD

__all__ = ["GOODPUT", "SLO_NAMES", "STREAM_PHASES", "Goodput", "PhaseLatency"]

GOODPUT = "goodput"
#: objective name → position in the per-call stream record (see soakwatch.targets.http_stream)
SLO_NAMES = {"ttft": 0, "tpot": 1, "e2el": 2, "sched_ttft": 3}


class PhaseLatency(Judge):
    """A percentile (or max) in ms of one token-time phase: the whole-run histogram, or a sliding sum."""

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self.phase = metric.names[0]
        self._pct = condition.percentile
        self._slide: SlidingCounts | None = None
        self._seen = -math.inf

    def observe(self, frame: Frame) -> Observation:
        ph = frame.recorder.callvalues.phases.get(self.phase)
        if ph is None:
            return Observation(None, 0, False)
        hist = ph.hist
        if self.window.kind == "run":
            n = hist.total
            if n == 0:
                return Observation(None, 0, False)
            value = hist.hdr.get_max_value() if self._pct is None else hist.percentiles([self._pct])[0]
            return self.compare(value / 1000.0, n)
        if self._slide is None:
            self._slide = SlidingCounts(len(hist.counts))
        win = self._slide
        for t, idx, cnt in list(ph.ring):  # the store's live ring: each tick's new counts, once
            if t > self._seen:
                self._seen = t
                win.add(t, idx, cnt)
        n = win.drop_until(frame.cutoff(self.window))
        if n == 0:
            return Observation(None, 0, False)
        dense = win.dense
        value = hist.max_of(dense) if self._pct is None else hist.percentiles([self._pct], dense)[0]
        return self.compare(value / 1000.0, n)


class Goodput(Judge):
    """Calls whose stream met every objective, over all calls in the window."""

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self.slo = [(SLO_NAMES[name], op, limit) for name, op, limit in metric.slo]
        self._good = 0
        #: (t, good calls, calls) since the start; a zero point first, as the counters start at zero
        self._points: deque[tuple[float, float, float]] = deque([(-math.inf, 0.0, 0.0)], maxlen=MAX_WINDOW_POINTS)
        self._base: tuple[float, float, float] | None = self._points[0]

    def _met(self, value: object) -> bool:
        if not isinstance(value, tuple):
            return False
        for pos, op, limit in self.slo:
            v = value[pos] if pos != 3 or value[3] is not None else value[0]
            if v is None:
                continue  # one output token: no TPOT to miss
            if not holds(op, float(v), limit):
                return False
        return True

    def _fold(self, frame: Frame) -> None:
        self._good += sum(1 for r in frame.recorder.callvalues.new_records(STREAM_RECORD) if self._met(r.value))
        calls = read_value(frame.recorder, "calls")
        if calls is not None:
            self._points.append((frame.t, float(self._good), calls))

    def discard(self, frame: Frame) -> None:
        # the calls before the gate's delay are not judged: the counts start from the first point after it
        self._fold(frame)
        self._points.clear()
        self._base = None

    def observe(self, frame: Frame) -> Observation:
        self._fold(frame)
        pts = self._points
        if not pts:
            return Observation(None, 0, False)
        base, self._base = cumulative_base(pts, self.window, frame, self._base)
        _, good, calls = pts[-1]
        total = calls - base[2]
        if total <= 0:
            return Observation(None, 0, False)
        met = good - base[1]
        return self.compare(met / total, int(total), f"{met:g} of {total:g} calls met the objectives")
