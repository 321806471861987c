"""The judge base: the frame every kind sees, its observation, and the shared comparison helpers."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from soakwatch.gates.parse import Condition, Metric, Window
from soakwatch.targets.http_stream import STREAM_PHASES

if TYPE_CHECKING:
    from soakwatch.core.recorder import Recorder

__all__ = [
    "COMPUTED",
    "MAX_WINDOW_POINTS",
    "SUSPENDED_GAPS",
    "UNEXPECTED_EXIT_KINDS",
    "Frame",
    "Judge",
    "Observation",
    "SlidingCounts",
    "Sparse",
    "cumulative_base",
    "holds",
    "margin_of",
    "read_value",
]

#: hard bound on the entries any sliding window keeps (two hours of 1 s ticks)
MAX_WINDOW_POINTS = 7200
#: metrics the gates compute themselves rather than read from a series
COMPUTED = frozenset({"latency", "error_ratio", "error_kinds", "processes", "goodput", *STREAM_PHASES})
#: a gap between frames this many ticks long means the monitor was suspended (stall gates count it)
SUSPENDED_GAPS = 4
#: events that mean a process exited when nobody asked it to
UNEXPECTED_EXIT_KINDS = frozenset({"worker_crash", "process_exit", "node_exit"})

Sparse = tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]


@dataclass
class Frame:
    """What every judge sees on one tick."""

    t: float
    recorder: Recorder
    #: time cutoff of a window: samples with ``t > cutoff`` are inside it
    cutoffs: dict[Window, float]
    #: latency histogram counts added since the previous tick (sparse), when a latency gate needs them
    latency_new: Sparse | None = None

    def cutoff(self, window: Window) -> float:
        return self.cutoffs.get(window, -math.inf)


@dataclass(frozen=True)
class Observation:
    """One evaluation: the observed value, how many samples back it, and the verdict."""

    value: float | None
    samples: int
    breached: bool
    margin: float | None = None
    detail: str = ""
    forecast: float | None = None


class SlidingCounts:
    """Histogram bucket counts over a sliding window: each tick's new counts (bucket indices,
    counts) are added, and taken off again once their tick is at or before the cutoff; at most
    :data:`MAX_WINDOW_POINTS` ticks are kept (the oldest falls off first)."""

    def __init__(self, buckets: int) -> None:
        self.dense = np.zeros(buckets, dtype=np.int64)
        self._ring: deque[tuple[float, npt.NDArray[np.intp], npt.NDArray[np.int64]]] = deque(maxlen=MAX_WINDOW_POINTS)

    def add(self, t: float, idx: npt.NDArray[np.intp], cnt: npt.NDArray[np.int64]) -> None:
        if len(self._ring) == self._ring.maxlen:
            _, oi, oc = self._ring[0]
            self.dense[oi] -= oc
        self._ring.append((t, idx, cnt))
        self.dense[idx] += cnt

    def drop_until(self, cutoff: float) -> int:
        """Take off the ticks at or before ``cutoff``; the count left in the window."""
        while self._ring and self._ring[0][0] <= cutoff:
            _, oi, oc = self._ring.popleft()
            self.dense[oi] -= oc
        return int(self.dense.sum())


#: (time, numerator so far, denominator so far) of cumulative counts
Cumulative = tuple[float, float, float]


def cumulative_base(
    pts: deque[Cumulative], window: Window, frame: Frame, run_base: Cumulative | None
) -> tuple[Cumulative, Cumulative | None]:
    """The point a window of cumulative counts is measured from, and the run's base to keep.

    Over the run: the first point ever seen (counters that do not start at zero start there),
    only the newest point kept; a sliding window: its oldest point still at or before the cutoff.
    ``pts`` must not be empty."""
    if window.kind == "run":
        base = run_base if run_base is not None else pts[0]
        while len(pts) > 1:
            pts.popleft()
        return base, base
    cutoff = frame.cutoff(window)
    while len(pts) > 1 and pts[1][0] <= cutoff:
        pts.popleft()
    return pts[0], run_base


def holds(op: str, value: float, threshold: float) -> bool:
    """``value OP threshold``."""
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "==":
        return value == threshold
    return value != threshold


def margin_of(op: str, value: float, threshold: float) -> float:
    """Distance to the limit in the metric's unit: positive while the condition holds (0 on the limit)."""
    if op in ("<", "<="):
        return threshold - value
    if op in (">", ">="):
        return value - threshold
    if op == "==":
        return -abs(value - threshold)
    return abs(value - threshold)


def read_value(recorder: Recorder, name: str) -> float | None:
    if name.startswith("errors[") and name.endswith("]"):
        # errors of the kinds matching a pattern, since the start: errors[Timeout], errors[HTTP 5*]
        pattern = name[len("errors[") : -1]
        return float(sum(k.count for k in list(recorder.kinds.values()) if fnmatchcase(k.kind, pattern)))
    v = recorder.value(name)
    if v is None or math.isnan(v):
        return None
    return v


class Judge(ABC):
    """One rule kind bound to its metric, condition and window."""

    #: the observed value is a level worth forecasting (time to breach)
    trend = False

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        self.metric = metric
        self.condition = condition
        self.window = window
        self._seq = 0

    @abstractmethod
    def observe(self, frame: Frame) -> Observation:
        """Fold this tick's values and judge the window."""

    def discard(self, frame: Frame) -> None:
        """Before the gate's delay: this tick's samples are dropped, never judged later."""
        self.fresh(frame)

    @property
    def shown(self) -> str:
        """What a view shows instead of the number, when the number alone misleads ("" for none)."""
        return ""

    def track(self, recorder: Recorder) -> None:
        """Ask the recorder to keep every value this judge folds (before the stage starts)."""
        for name in self.tracked:
            recorder.track(name)

    @property
    def tracked(self) -> tuple[str, ...]:
        """Series the recorder keeps every value of for this judge."""
        return (self.sampled,) if self.sampled is not None else ()

    @property
    def sampled(self) -> str | None:
        """The one series this judge folds sample by sample (tracked by the recorder), or None."""
        name = self.metric.names[0]
        computed = name in COMPUTED or name.startswith(("errors[", "error_ratio["))
        return name if self.metric.op == "" and not computed else None

    def fresh(self, frame: Frame) -> list[tuple[float, float]]:
        """The samples since the last evaluation: every value set on a tracked series, else this tick's."""
        name = self.sampled
        if name is not None and frame.recorder.is_tracked(name):
            pts, self._seq = frame.recorder.samples_since(name, self._seq)
            return [(t, v) for t, v in pts if not math.isnan(v)]
        v = self.read(frame)
        return [(frame.t, v)] if v is not None else []

    def read(self, frame: Frame) -> float | None:
        """This tick's value of the metric (``a - b`` for a difference), or None without data."""
        names = self.metric.names
        a = read_value(frame.recorder, names[0])
        if self.metric.op == "":
            return a
        b = read_value(frame.recorder, names[1])
        if a is None or b is None:
            return None
        if self.metric.op == "-":
            return a - b
        return a / b if b else None

    def compare(self, value: float | None, samples: int, detail: str = "") -> Observation:
        c = self.condition
        assert c.op is not None and c.threshold is not None
        if value is None:
            return Observation(None, samples, False)
        ok = holds(c.op, value, c.threshold)
        return Observation(value, samples, not ok, margin_of(c.op, value, c.threshold), detail)
