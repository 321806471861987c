"""Per-call checks of recorded values: ``strictly_increasing``, ``never_decreasing``, ``unique``.

A gate ``record[load_seq] strictly_increasing`` judges every value a target recorded
(``soakwatch.record``) or an HTTP answer carried (``[http] extract``), not the series
sampled on ticks: a racy server that hands out the same sequence number twice within
one tick breaks it even though the ticked series never goes down.

Order is what a client could observe: call B comes after call A when B started after
A recorded its value. With concurrency 1 that is the order of the calls; with
overlapping calls, two values recorded by calls in flight at the same time are not
ordered, so concurrency never makes a correct server fail. Values arrive in batches
from several slots, so the checks keep a window of recent values (:data:`HISTORY_S`,
at most :data:`HISTORY_MAX`) and re-check it on every tick: a value handed over late
is still compared with the values recorded after it. Older values are folded into
one running maximum.

The observed value of the gate is the number of violations; its detail names the
first one (call index, request id for HTTP, the two values and the earlier call),
and the first :data:`EVENTS_MAX` violations are ``call_check`` events.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from typing import Any

import numpy as np

from soakwatch.core.callvalues import CallRecord
from soakwatch.gates.kinds import Frame, Judge, Observation
from soakwatch.gates.parse import CALL_CHECKS, Condition, Metric, Window

__all__ = ["EVENTS_MAX", "HISTORY_MAX", "HISTORY_S", "MAX_UNIQUE", "CallCheck", "check_call_rule"]

#: recent values kept for re-checking against values handed over late (seconds, count)
HISTORY_S = 5.0
HISTORY_MAX = 50_000
#: distinct values remembered by ``unique`` (the oldest are forgotten first; the detail says so)
MAX_UNIQUE = 1_000_000
#: violations written as events per gate
EVENTS_MAX = 20


def check_call_rule(metric: Metric, cond: Condition) -> str | None:
    """Why a per-call check cannot apply to this metric, or None."""
    is_record = metric.op == "" and metric.names[0].startswith("record[")
    if cond.kind in CALL_CHECKS and not is_record:
        return f"{cond.kind} is checked per call on a recorded value: write 'record[NAME] {cond.kind}'"
    return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not (isinstance(v, float) and math.isnan(v))


class CallCheck(Judge):
    """Judges every recorded value of one name against the values recorded before it."""

    def __init__(self, metric: Metric, condition: Condition, window: Window) -> None:
        super().__init__(metric, condition, window)
        self.name = metric.names[0][len("record[") : -1]
        self._strict = condition.kind == "strictly_increasing"
        self._n = 0
        self._total = 0
        self._events = 0
        self._first: str | None = None
        self._bad: deque[tuple[float, str]] = deque(maxlen=HISTORY_MAX)
        # order checks: the recent window (t, start, value, index) and the maximum of older values
        self._win: list[tuple[int, int, float, int]] = []
        #: (latest t, index, value) of the values folded away
        self._floor: tuple[float, int, float] = (-math.inf, -1, -math.inf)
        self._reported: set[tuple[int, int]] = set()
        # unique: value -> first call index
        self._seen: OrderedDict[Any, int] = OrderedDict()
        self._forgot = False

    def observe(self, frame: Frame) -> Observation:
        recs = frame.recorder.callvalues.new_records(self.name)
        if recs:
            self._n += len(recs)
            found = self._unique(frame, recs) if self.condition.kind == "unique" else self._order(frame, recs)
            for index, text in found:
                self._violation(frame, index, text)
        if self._n == 0:
            return Observation(None, 0, False)
        if self.window.kind == "run":
            count, first = self._total, self._first
        else:
            cutoff = frame.cutoff(self.window)
            while self._bad and self._bad[0][0] <= cutoff:
                self._bad.popleft()
            count, first = len(self._bad), (self._bad[0][1] if self._bad else None)
        if not count:
            return Observation(0.0, self._n, False)
        more = f" ({count} violations)" if count > 1 else ""
        return Observation(float(count), self._n, True, detail=f"{first}{more}")

    # ---------------------------------------------------------------- reporting
    def _call(self, frame: Frame, index: int) -> str:
        rid = frame.recorder.callvalues.request_id(index)
        return f"call {index}" + (f" (request id {rid})" if rid else "")

    def _violation(self, frame: Frame, index: int, text: str) -> None:
        what = f"{self._call(frame, index)}: {text}"
        self._total += 1
        if self._first is None:
            self._first = what
        self._bad.append((frame.t, what))
        if self._events < EVENTS_MAX:
            self._events += 1
            rid = frame.recorder.callvalues.request_id(index)
            frame.recorder.events.emit(
                "call_check",
                f"record[{self.name}] {self.condition.kind}: {what}",
                "error",
                check=self.condition.kind,
                record=self.name,
                call=index,
                request_id=rid,
            )

    # ---------------------------------------------------------------- unique
    def _unique(self, frame: Frame, recs: list[CallRecord]) -> list[tuple[int, str]]:
        out = []
        for r in sorted(recs, key=lambda r: r.t_ns):
            if r.value is None:
                out.append((r.call, f"no {self.name} in the answer"))
                continue
            key: Any = r.value
            try:
                first = self._seen.get(key)
            except TypeError:  # a list or dict: compared by its text
                key = repr(r.value)
                first = self._seen.get(key)
            if first is not None:
                note = "" if not self._forgot else f" (among the last {MAX_UNIQUE:,} values)"
                out.append((r.call, f"{self.name} = {r.value!r} already recorded by call {first}{note}"))
                continue
            self._seen[key] = r.call
            if len(self._seen) > MAX_UNIQUE:
                self._seen.popitem(last=False)
                self._forgot = True
        return out

    # ---------------------------------------------------------------- order
    def _order(self, frame: Frame, recs: list[CallRecord]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for r in recs:
            if r.value is None:
                out.append((r.call, f"no {self.name} in the answer"))
            elif _is_number(r.value):
                self._win.append((r.t_ns, r.start_ns, float(r.value), r.call))
            else:
                out.append((r.call, f"{self.name} = {r.value!r} is not a number"))
        if not self._win:
            return out
        self._win.sort()
        t = np.fromiter((w[0] for w in self._win), dtype=np.int64, count=len(self._win))
        s = np.fromiter((w[1] for w in self._win), dtype=np.int64, count=len(self._win))
        v = np.fromiter((w[2] for w in self._win), dtype=np.float64, count=len(self._win))
        prefix = np.maximum.accumulate(v)
        pos = np.searchsorted(t, s, side="left")  # values recorded before each call started
        before = np.where(pos > 0, prefix[np.maximum(pos - 1, 0)], -math.inf)
        floor_t, floor_i, floor_v = self._floor
        before = np.where(s > floor_t, np.maximum(before, floor_v), before)
        bad = before >= v if self._strict else before > v
        word = "not above" if self._strict else "below"
        for k in np.flatnonzero(bad):
            key = (self._win[k][3], self._win[k][0])
            if key in self._reported:
                continue
            self._reported.add(key)
            p = int(pos[k])
            if p > 0 and prefix[p - 1] >= floor_v:
                j = int(np.argmax(v[:p]))
                prev_i, prev_v = self._win[j][3], v[j]
            else:
                prev_i, prev_v = floor_i, floor_v
            out.append((self._win[k][3], f"{self.name} {v[k]:g} {word} {prev_v:g} of call {prev_i}"))
        self._evict(int(t[-1]))
        return out

    def _evict(self, newest: int) -> None:
        keep_from = newest - int(HISTORY_S * 1e9)
        cut = 0
        while cut < len(self._win) and (self._win[cut][0] < keep_from or len(self._win) - cut > HISTORY_MAX):
            cut += 1
        if not cut:
            return
        floor_t, floor_i, floor_v = self._floor
        for t_ns, _, value, index in self._win[:cut]:
            floor_t = max(floor_t, t_ns)
            if value > floor_v or (value == floor_v and floor_i < 0):
                floor_i, floor_v = index, value
            self._reported.discard((index, t_ns))
        self._floor = (floor_t, floor_i, floor_v)
        del self._win[:cut]
