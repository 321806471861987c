"""A ratio of two window functions: ``sum(failed_checks[n1]) / sum(total_checks[n1]) < 5% over 60s``.

Cumulative counters are judged with ``a / b`` (Δa / Δb over the window); per-report
counters (each epoch report carries the checks *of that epoch*) are not cumulative, so
their difference says nothing. Here each side is its own window function, folded sample
by sample (every report once), so per-epoch counts are summed over the window; any
function works on either side (``mean(a) / mean(b)``, ``max(a) / last(b)``).

Samples are the denominator's samples in the window; a window whose denominator sums to
zero has no value (not judged).
"""

from __future__ import annotations

import math

from soakwatch.gates._acc import Acc
from soakwatch.gates.kinds import MAX_WINDOW_POINTS, Frame, Judge, Observation
from soakwatch.gates.parse import Condition, Metric, Window, percentile_in

__all__ = ["TextIs", "WindowRatio"]


class WindowRatio(Judge):
    """``FUNC(a) / FUNC(b)`` over the window."""

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        run = window.kind == "run"
        self._accs = [Acc(f, percentile_in(f), run, MAX_WINDOW_POINTS) for f in (metric.func(0), metric.func(1))]
        self._seqs = [0, 0]

    @property
    def tracked(self) -> tuple[str, ...]:
        return self.metric.names

    def _fresh_of(self, frame: Frame, i: int) -> list[tuple[float, float]]:
        name = self.metric.names[i]
        rec = frame.recorder
        if rec.is_tracked(name):
            pts, self._seqs[i] = rec.samples_since(name, self._seqs[i])
            return [(t, v) for t, v in pts if not math.isnan(v)]
        v = rec.value(name)
        return [(frame.t, v)] if v is not None and not math.isnan(v) else []

    def discard(self, frame: Frame) -> None:
        for i in (0, 1):
            self._fresh_of(frame, i)

    def observe(self, frame: Frame) -> Observation:
        for i, acc in enumerate(self._accs):
            for t, v in self._fresh_of(frame, i):
                acc.fold(t, v)
            if self.window.kind != "run":
                acc.drop_until(frame.cutoff(self.window))
        num, den = (acc.value() for acc in self._accs)
        n = self._accs[1].samples
        if num is None or den is None or den == 0:
            return Observation(None, n, False)
        return self.compare(num / den, n, f"{num:g} / {den:g}")


class TextIs(Judge):
    """A string field against one value: ``last_status[storage-1] != "stalled"``, ``status[health] == "ok"``.

    Judged on every value the source set (every report read, every scrape), each once,
    even when several arrive between two ticks: a "stalled" that lasted one report is
    seen. The observed value is 1 while it holds and 0 when it does not (the offending
    string and its time in the detail); the margin is 1 or -1.
    """

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self._n = 0
        self._seq = 0
        self.current: str | None = None

    @property
    def tracked(self) -> tuple[str, ...]:
        return ()

    @property
    def shown(self) -> str:
        return repr(self.current) if self.current is not None else ""

    def _holds(self, v: str) -> bool:
        equal = v == self.condition.value
        return equal if self.condition.op == "==" else not equal

    def discard(self, frame: Frame) -> None:
        # values set before the delay are never judged
        _, self._seq = frame.recorder.texts_since(self.metric.names[0], self._seq)

    def observe(self, frame: Frame) -> Observation:
        fresh, self._seq = frame.recorder.texts_since(self.metric.names[0], self._seq)
        if not fresh:
            if self.current is None:
                return Observation(None, self._n, False)
            fresh = [(frame.t, self.current)]  # nothing new: the field still holds its value
        else:
            self._n += len(fresh)
            self.current = fresh[-1][1]
        bad = next(((t, v) for t, v in fresh if not self._holds(v)), None)
        if bad is None:
            return Observation(1.0, self._n, False, 1.0, f"value {self.current!r}")
        return Observation(0.0, self._n, True, -1.0, f"value {bad[1]!r} at {bad[0]:.1f}s")
