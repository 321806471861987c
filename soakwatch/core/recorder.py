"""The recorder: live series in bounded rings, evidence flushed to disk on every tick.

Runners hand over :class:`ResultBatch` objects (from any thread; one lock-free list
append per batch). On each tick the stage loop calls :meth:`Recorder.tick`, which
folds the batches into the latency histograms with numpy, updates the counters and
the named series, writes one timeline.csv row, writes the cumulative latency
histogram (``latency.hdr``) and flushes events.jsonl. Memory is bounded whatever the
length of the run: rings of recent points plus a coarse ring of minute averages.

Collectors publish values with :meth:`Recorder.set` (strings: :meth:`Recorder.set_text`);
gates and views read :meth:`Recorder.series`.
"""

from __future__ import annotations

import csv
import math
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from soakwatch.config.constants import LATENCY_HEAT_TICKS
from soakwatch.config.safetext import safe_str
from soakwatch.core._recorder_disk import fmt_cell, write_extra, write_histograms
from soakwatch.core._recorder_types import CORE_COLUMNS, CORE_SERIES, ErrorKind, ErrorRecord, ResultBatch, kind_name
from soakwatch.core._recorder_types import MAX_KIND_NAME as MAX_KIND_NAME
from soakwatch.core.callvalues import CallValueStore
from soakwatch.core.events import EventLog
from soakwatch.core.failures import FAILURES_FILE, FailureLog
from soakwatch.core.histogram import LatencyHistogram
from soakwatch.core.series import SampleKeeper, Series, TextSeries

__all__ = ["CORE_COLUMNS", "CORE_SERIES", "ErrorKind", "ErrorRecord", "Recorder", "ResultBatch", "Series"]

#: default sliding window for the live latency percentiles
LIVE_WINDOW = 10.0
#: seconds of per-tick latency counts kept for sliding windows (gates keep their own sums, so a
#: short ring is enough; each tick costs a few KB, so 600 s of them was measured as +5 MB of RSS)
LATENCY_WINDOW_KEEP = 2 * LIVE_WINDOW
#: individual error events per kind before only per-tick counts are written
ERROR_EVENTS_PER_KIND = 20
MAX_KINDS = 256
MAX_MESSAGE = 300


class Recorder:
    """Holds the live state of a stage and keeps the on-disk evidence current."""

    def __init__(self, run_dir: Path | None, events: EventLog, *, open_model: bool = False) -> None:
        self.run_dir = run_dir
        self.events = events
        self.open_model = open_model
        self.hist = LatencyHistogram()
        self.sched_hist = LatencyHistogram() if open_model else None
        self._pending: list[ResultBatch] = []
        self._pending_lock = threading.Lock()
        self.calls = self.ok = self.errors = self.timeouts = 0
        #: arrivals of an open-model stage that were due and never sent
        self.missed = 0
        #: the arrival rate planned now (0 while paused), None in the closed model
        self.planned_rate: float | None = None
        self.failures = FailureLog(run_dir / FAILURES_FILE if run_dir is not None else None)
        self.in_flight = 0
        self.kinds: dict[str, ErrorKind] = {}
        self._series: dict[str, Series] = {}
        self._values: dict[str, float] = {}
        self._values_lock = threading.Lock()
        #: every value set, per series a reader asked for (track), so per-report and per-snapshot
        #: values are each judged once even when several arrive between two ticks
        self._samples = SampleKeeper()
        #: string fields (statuses, enums): every value set, numbered
        self._texts: dict[str, TextSeries] = {}
        self._window: deque[tuple[float, npt.NDArray[np.int32], npt.NDArray[np.int32]]] = deque()
        self._sched_window: deque[tuple[float, npt.NDArray[np.int32], npt.NDArray[np.int32]]] = deque()
        #: per tick, the calls per latency heatmap bucket (LatencyHistogram.heat_row; [] when no call ended)
        self.heat: deque[list[int]] = deque(maxlen=LATENCY_HEAT_TICKS)
        self.last_tick_t = 0.0
        self._tick_t: float | None = None
        self.rate = 0.0
        self.latency: dict[str, float] = {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
        self.sched_latency: dict[str, float] | None = dict(self.latency) if open_model else None
        self._columns: list[str] | None = None
        self._timeline: IO[str] | None = None
        self._timeline_writer: Any = None
        self._extra: IO[str] | None = None
        #: per-call phase histograms and recorded values (soakwatch.phase / record, [http] extract)
        self.callvalues = CallValueStore()
        if run_dir is not None:
            self._timeline = (run_dir / "timeline.csv").open("w", newline="", encoding="utf-8")
            self._timeline_writer = csv.writer(self._timeline)

    # ---------------------------------------------------------------- inputs
    def add(self, batch: ResultBatch) -> None:
        """Hand over finished calls; cheap and safe from any thread."""
        with self._pending_lock:
            self._pending.append(batch)

    def set(self, name: str, value: float, unit: str = "") -> None:
        """Publish the current value of a named series (sampled into its ring on each tick)."""
        with self._values_lock:
            self._values[name] = float(value)
            series = self._series.get(name)
            if series is None:
                series = self._series[name] = Series(name, unit)
            if self._tick_t is not None:  # published during a tick: it is this tick's point
                series.put(self._tick_t, float(value))
            self._samples.put(name, self.events.elapsed(), float(value))

    def set_text(self, name: str, value: str) -> None:
        """Publish the current value of a string field (a status, an enum) for text gates."""
        with self._values_lock:
            self._texts.setdefault(name, TextSeries()).put(self.events.elapsed(), value)

    def text(self, name: str) -> str | None:
        return ts.last if (ts := self._texts.get(name)) is not None else None

    def texts_since(self, name: str, seq: int) -> tuple[list[tuple[float, str]], int]:
        """The (t, value) set on a string field after value number ``seq``, and the newest number."""
        with self._values_lock:
            ts = self._texts.get(name)
            return ts.since(seq) if ts is not None else ([], seq)

    def track(self, name: str) -> None:
        """Keep every value set on ``name`` (the last ``SAMPLES_KEPT``) for :meth:`samples_since`."""
        with self._values_lock:
            self._samples.track(name)

    def track_matching(self, prefix: str, suffix: str) -> None:
        """Track every series named ``prefix…suffix`` from its first value (the keys of a dict field)."""
        with self._values_lock:
            self._samples.track_matching(prefix, suffix)

    def tracked_matching(self, prefix: str, suffix: str) -> list[str]:
        with self._values_lock:
            return self._samples.matching(prefix, suffix)

    def is_tracked(self, name: str) -> bool:
        return name in self._samples

    def samples_since(self, name: str, seq: int) -> tuple[list[tuple[float, float]], int]:
        """The (t, value) set on a tracked series after sample number ``seq``, and the newest number."""
        with self._values_lock:
            return self._samples.since(name, seq)

    def declare(self, name: str, unit: str = "") -> None:
        """Name a series before the first tick so it gets a timeline.csv column."""
        with self._values_lock:
            self._values.setdefault(name, math.nan)
            self._series.setdefault(name, Series(name, unit))

    # ---------------------------------------------------------------- reads
    def pending_calls(self) -> int:
        """Calls handed over but not yet folded by a tick."""
        with self._pending_lock:
            return sum(b.n for b in self._pending)

    def pending_missed(self) -> int:
        """Missed arrivals handed over but not yet folded by a tick."""
        with self._pending_lock:
            return sum(b.missed for b in self._pending)

    def series(self, name: str) -> Series | None:
        return self._series.get(name)

    def series_names(self) -> list[str]:
        return list(self._series)

    def value(self, name: str) -> float | None:
        return self._values.get(name)

    def latency_window(
        self, seconds: float, pcts: Iterable[float] = (50, 95, 99), scheduled: bool = False
    ) -> tuple[int, list[float]]:
        """(count, percentiles in ms) over the last ``seconds`` of ticks."""
        ring = self._sched_window if scheduled else self._window
        hist = self.sched_hist if scheduled and self.sched_hist else self.hist
        cutoff = self.last_tick_t - seconds
        dense = np.zeros(len(hist.counts), dtype=np.int64)
        for t, idx, cnt in ring:
            if t > cutoff:
                dense[idx] += cnt
        n = int(dense.sum())
        return n, [v / 1000.0 for v in hist.percentiles(list(pcts), dense)]

    # ---------------------------------------------------------------- tick
    def _take_pending(self) -> list[ResultBatch]:
        with self._pending_lock:
            batches, self._pending = self._pending, []
        return batches

    def _fold_latency(
        self,
        arrays: list[npt.NDArray[np.int64]],
        hist: LatencyHistogram,
        ring: deque[tuple[float, npt.NDArray[np.int32], npt.NDArray[np.int32]]],
        t: float,
    ) -> None:
        if arrays:
            us = np.maximum(np.concatenate(arrays) // 1000, 1)
            dense = hist.record_many(us)
            idx = np.flatnonzero(dense)
            ring.append((t, idx.astype(np.int32), dense[idx].astype(np.int32)))
        while ring and ring[0][0] < t - LATENCY_WINDOW_KEEP:
            ring.popleft()

    def _fold_errors(self, errors: list[ErrorRecord], t: float) -> None:
        for err in errors:
            if err.timeout:
                self.timeouts += 1
            else:
                self.errors += 1
            name = kind_name(err.kind)
            kind = name if (name in self.kinds or len(self.kinds) < MAX_KINDS) else "(other)"
            ek = self.kinds.get(kind)
            msg = safe_str(err.message[:MAX_MESSAGE])
            if ek is None:
                ek = self.kinds[kind] = ErrorKind(kind, first_message=msg, first_t=t)
            ek.count += 1
            ek.tick_count += 1
            ek.last_message = msg
            ek.last_t = t
            if ek.count <= ERROR_EVENTS_PER_KIND:
                self.events.emit(
                    "error", f"{kind}: {msg}", "error", error_kind=kind, call=err.index, timeout=err.timeout
                )
        capped = self.failures.capped
        self.failures.write(errors, t)
        if self.failures.capped and not capped:
            self.events.emit(
                "failures_capped",
                f"{FAILURES_FILE} reached {self.failures.max_bytes // 2**20} MB: later failed calls are counted only",
                "warn",
                lines=self.failures.written,
            )

    def _fold_values(self, batches: list[ResultBatch], t: float) -> None:
        """Phase times, recorded values and sampled answers of the calls (soakwatch.phase / record)."""
        for name, value in self.callvalues.fold([b.values for b in batches if b.values is not None], t).items():
            self.set(name, value)
        log = self.callvalues.answer_log
        if log is not None and log.dropped and not log.warned:
            log.warned = True
            self.events.emit(
                "answers_capped",
                f"{log.path.name} reached its size cap: later answers are counted, not kept",
                "warn",
                kept=log.kept,
            )

    def tick_begin(self, in_flight: int = 0, planned_rate: float | None = None) -> None:
        """Fold everything handed over since the last tick; values set until :meth:`tick_end`
        (by collectors and gates ticking in between) count for this tick."""
        t = self.events.elapsed()
        dt = max(t - self.last_tick_t, 1e-9)
        batches = self._take_pending()
        n_new = sum(b.n for b in batches)
        self.missed += sum(b.missed for b in batches)
        self.planned_rate = planned_rate
        errors = [e for b in batches for e in b.errors]
        self.calls += n_new
        self._fold_latency([b.lat_ns for b in batches if b.n], self.hist, self._window, t)
        self.heat.append(self.hist.heat_row(*self._window[-1][1:]) if self._window and self._window[-1][0] == t else [])
        if self.sched_hist is not None:
            sched = [b.sched_ns for b in batches if b.sched_ns is not None and len(b.sched_ns)]
            self._fold_latency(sched, self.sched_hist, self._sched_window, t)
        self._fold_errors(errors, t)
        self._fold_values(batches, t)
        self.ok = self.calls - self.errors - self.timeouts
        self._emit_tick_kinds()
        self.in_flight = in_flight
        self.rate = n_new / dt
        self.last_tick_t = t
        self._update_latency()
        self._publish_core(in_flight, float(len(errors)), float(n_new), planned_rate)
        with self._values_lock:
            values = dict(self._values)
            for name, value in values.items():
                self._series[name].append(t, value)
            self._tick_t = t

    def _emit_tick_kinds(self) -> None:
        """One ``errors`` event with this tick's count per error kind; the counts start over."""
        tick_kinds = {k.kind: k.tick_count for k in self.kinds.values() if k.tick_count}
        if tick_kinds:
            self.events.emit("errors", ", ".join(f"{k}×{n}" for k, n in tick_kinds.items()), "error", counts=tick_kinds)
            for k in self.kinds.values():
                k.tick_count = 0

    def _update_latency(self) -> None:
        """The live percentiles over :data:`LIVE_WINDOW`, and the maxima since the start."""
        _, (p50, p95, p99) = self.latency_window(LIVE_WINDOW)
        self.latency = {
            "p50": p50,
            "p95": p95,
            "p99": p99,
            "max": self.hist.hdr.get_max_value() / 1000.0 if self.calls else 0.0,
        }
        if self.sched_hist is not None:
            _, (s50, s95, s99) = self.latency_window(LIVE_WINDOW, scheduled=True)
            self.sched_latency = {
                "p50": s50,
                "p95": s95,
                "p99": s99,
                "max": self.sched_hist.hdr.get_max_value() / 1000.0 if self.calls else 0.0,
            }

    def _publish_core(self, in_flight: int, error_delta: float, calls_delta: float, planned_rate: float | None) -> None:
        """Set the :data:`CORE_SERIES` for this tick."""
        core = {
            "calls": self.calls,
            "ok": self.ok,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "in_flight": in_flight,
            "rate": self.rate,
            "p50_ms": self.latency["p50"],
            "p95_ms": self.latency["p95"],
            "p99_ms": self.latency["p99"],
            "error_delta": error_delta,
            "calls_delta": calls_delta,
            "missed_arrivals": self.missed,
            "planned_rate": math.nan if planned_rate is None else planned_rate,
        }
        for name, value in core.items():
            self.set(name, float(value))

    def tick_end(self) -> None:
        """Write this tick's timeline row, with what plugins published since :meth:`tick_begin`."""
        t = self._tick_t if self._tick_t is not None else self.last_tick_t
        with self._values_lock:
            self._tick_t = None
            values = dict(self._values)
        self._write_row(t, values)
        self.events.flush()

    def tick(self, in_flight: int = 0, planned_rate: float | None = None) -> None:
        """Fold everything handed over since the last tick and write the evidence."""
        self.tick_begin(in_flight, planned_rate)
        self.tick_end()

    # ---------------------------------------------------------------- disk
    def _write_row(self, t: float, values: dict[str, float]) -> None:
        if self._timeline_writer is None or self._timeline is None:
            return
        from soakwatch.core.events import utc_now

        sched = self.sched_latency or {}
        row: dict[str, Any] = {
            "t": round(t, 3),
            "ts": utc_now(),
            "calls": self.calls,
            "ok": self.ok,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "in_flight": self.in_flight,
            "rate": round(self.rate, 2),
            "p50_ms": self.latency["p50"],
            "p95_ms": self.latency["p95"],
            "p99_ms": self.latency["p99"],
            "max_ms": self.latency["max"],
            "sched_p50_ms": sched.get("p50"),
            "sched_p95_ms": sched.get("p95"),
            "sched_p99_ms": sched.get("p99"),
            "missed_arrivals": self.missed,
            "planned_rate": self.planned_rate,
        }
        skip = CORE_SERIES
        if self._columns is None:
            self._columns = CORE_COLUMNS + sorted(k for k in values if k not in skip)
            self._timeline_writer.writerow(self._columns)
        cols = set(self._columns)
        for k, v in values.items():
            if k not in skip:
                row[k] = v
        self._timeline_writer.writerow([fmt_cell(row.get(c)) for c in self._columns])
        self._timeline.flush()
        late = {k: v for k, v in values.items() if k not in cols and k not in skip}
        if late and self.run_dir is not None:
            self._extra = write_extra(self._extra, self.run_dir, t, late)
        self._write_hist()

    def _write_hist(self) -> None:
        if self.run_dir is None:
            return
        write_histograms(self.run_dir, self.hist, self.sched_hist, self.callvalues)

    def close(self) -> None:
        if self.callvalues.answer_log is not None:
            self.callvalues.answer_log.close()
        self.failures.close()
        for fh in (self._timeline, self._extra):
            if fh is not None:
                fh.close()
        self._timeline = self._extra = None
        self._timeline_writer = None
