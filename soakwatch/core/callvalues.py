"""Per-call values folded on each tick: phase latency histograms and recorded values.

Runners hand over :data:`~soakwatch._calldata.CallValues` with their result batches
(from ``soakwatch.phase`` / ``soakwatch.record`` in a Python target, or the ``[http]
extract`` of an HTTP target). On each tick the recorder folds them here:

- every phase gets a whole-run :class:`LatencyHistogram` (written to ``phases.hdr``,
  summarised in summary.json) and a live window published as the series
  ``phase_p50_ms[NAME]``, ``phase_p95_ms[NAME]``, ``phase_p99_ms[NAME]``;
- every recorded name gets the series ``record[NAME]`` (the latest numeric value) and
  the tick's individual values, in :meth:`CallValueStore.new_records`, for the per-call
  checks of the gates (``strictly_increasing``, ``never_decreasing``, ``unique``).

Names are bounded (:data:`MAX_NAMES`), so a target inventing names per call cannot
grow the monitor's memory; the overflow is counted in :attr:`CallValueStore.dropped`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from soakwatch._calldata import CallValues, RecordTuple
from soakwatch.core.histogram import LatencyHistogram

__all__ = [
    "ANSWER_FILE",
    "MAX_NAMES",
    "PHASE_FILE",
    "PHASE_WINDOW",
    "AnswerLog",
    "CallRecord",
    "CallValueStore",
    "read_phases",
]

#: distinct phase names and distinct recorded names kept (each)
MAX_NAMES = 64
#: live window of the phase percentiles, seconds (the same as the call latency's)
PHASE_WINDOW = 10.0
#: whole-run phase histograms, one ``NAME<TAB>encoded`` line per phase
PHASE_FILE = "phases.hdr"
#: sampled calls' cases and answers ([record])
ANSWER_FILE = "answers.jsonl"


class CallRecord(NamedTuple):
    """One recorded value: the call index, its start and the moment the value was recorded (ns)."""

    call: int
    start_ns: int
    t_ns: int
    value: Any


@dataclass
class _Phase:
    hist: LatencyHistogram = field(default_factory=LatencyHistogram)
    #: sparse (bucket indices, counts) added per tick, for the live window
    ring: deque[tuple[float, npt.NDArray[np.intp], npt.NDArray[np.int64]]] = field(default_factory=deque)


class CallValueStore:
    """Phase histograms, the latest recorded values and this tick's records, by name."""

    def __init__(self) -> None:
        self.phases: dict[str, _Phase] = {}
        self._records: dict[str, list[RecordTuple]] = {}
        self._record_names: set[str] = set()
        #: values dropped: over the per-chunk bound of a slot, or a name beyond MAX_NAMES
        self.dropped = 0
        #: prefix of the request id of call ``i`` (``<prefix>-<i>``), set by the HTTP runner
        self.request_id_prefix: str | None = None
        #: calls whose phase times and values were lost with a worker that crashed or hung mid-chunk
        self.lost_calls = 0
        #: answers.jsonl, when the profile samples answers ([record])
        self.answer_log: AnswerLog | None = None

    def caveats(self) -> tuple[str, ...]:
        """What the per-call values could not show, for the verdict line."""
        out = []
        if self.dropped:
            out.append(f"{self.dropped} per-call values dropped (over {MAX_NAMES} names or a slot's bound)")
        if self.lost_calls:
            out.append(f"per-call values of {self.lost_calls} calls lost with their worker")
        return tuple(out)

    def request_id(self, index: int) -> str | None:
        return f"{self.request_id_prefix}-{index}" if self.request_id_prefix else None

    def new_records(self, name: str) -> list[CallRecord]:
        """Values of ``name`` handed over since the previous tick (in hand-over order); built only
        when a gate asks, so recording values no gate checks costs no objects per value."""
        return [CallRecord(i, s, t, v) for i, s, t, _, v in self._records.get(name, ())]

    def fold(self, batches: list[CallValues], t: float) -> dict[str, float]:
        """Fold one tick's hand-overs; returns the series values to publish."""
        self._records = {}
        durations: dict[str, list[int]] = {}
        for phases, records, dropped, answers in batches:
            self.dropped += dropped
            if answers and self.answer_log is not None:
                self.answer_log.write(answers)
            for _, name, ns in phases:
                durations.setdefault(name, []).append(ns)
            for rec in records:
                kept = self._records.get(rec[3])
                if kept is None:
                    if rec[3] not in self._record_names and len(self._record_names) >= MAX_NAMES:
                        self.dropped += 1
                        continue
                    self._record_names.add(rec[3])
                    kept = self._records[rec[3]] = []
                kept.append(rec)
        out: dict[str, float] = {}
        for name, times in durations.items():
            ph = self.phases.get(name)
            if ph is None:
                if len(self.phases) >= MAX_NAMES:
                    self.dropped += len(times)
                    continue
                ph = self.phases[name] = _Phase()
            us = np.maximum(np.asarray(times, dtype=np.int64) // 1000, 1)
            dense = ph.hist.record_many(us)
            idx = np.flatnonzero(dense)
            ph.ring.append((t, idx, dense[idx]))
        for name, ph in self.phases.items():
            while ph.ring and ph.ring[0][0] <= t - PHASE_WINDOW:
                ph.ring.popleft()
            counts = np.zeros(len(ph.hist.counts), dtype=np.int64)
            for _, idx, cnt in ph.ring:
                counts[idx] += cnt
            p50, p95, p99 = (v / 1000.0 for v in ph.hist.percentiles([50, 95, 99], counts))
            out[f"phase_p50_ms[{name}]"] = p50
            out[f"phase_p95_ms[{name}]"] = p95
            out[f"phase_p99_ms[{name}]"] = p99
        for name, recs in self._records.items():
            latest = max(recs, key=itemgetter(2))[4]
            if isinstance(latest, int | float):  # bools too; strings are checked, not plotted
                out[f"record[{name}]"] = float(latest)
        return out

    @property
    def in_use(self) -> bool:
        """The target has reported phase times or values (so a lost chunk lost some)."""
        return bool(self.phases or self._record_names)

    def phase_summary(self) -> dict[str, dict[str, float]]:
        """Whole-run percentiles (ms) of every phase, for the live snapshot."""
        return {name: _percentiles(ph.hist) for name, ph in self.phases.items()}

    def encode_phases(self) -> str:
        return "".join(f"{name}\t{ph.hist.encode()}\n" for name, ph in self.phases.items())


def _percentiles(h: LatencyHistogram) -> dict[str, float]:
    p50, p95, p99 = (v / 1000.0 for v in h.percentiles([50, 95, 99]))
    return {"count": float(h.total), "p50": p50, "p95": p95, "p99": p99, "max": h.hdr.get_max_value() / 1000.0}


def read_phases(text: str) -> dict[str, LatencyHistogram]:
    """The histograms of a ``phases.hdr`` file; a torn or foreign line is skipped."""
    out: dict[str, LatencyHistogram] = {}
    for line in text.splitlines():
        name, sep, encoded = line.partition("\t")
        if not sep:
            continue
        try:
            out[name] = LatencyHistogram.decode(encoded.strip())
        except Exception:  # a line torn by a kill
            continue
    return out


class AnswerLog:
    """``answers.jsonl``: sampled calls' cases and answers, one JSON line each, capped in size."""

    def __init__(self, path: Path, max_mb: float) -> None:
        self.path = path
        self.max_bytes = int(max_mb * (1 << 20))
        self.written = 0
        self.kept = 0
        #: answers not written because the file reached its cap
        self.dropped = 0
        self.warned = False
        self._fh: IO[str] | None = None

    def write(self, answers: list[tuple[int, str]]) -> None:
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        for _, line in answers:
            if self.written + len(line) + 1 > self.max_bytes:
                self.dropped += 1
                continue
            self._fh.write(line + "\n")
            self.written += len(line) + 1
            self.kept += 1
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
