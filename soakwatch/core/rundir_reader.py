"""The one reader of a run directory: what summary, report, replay, compare and attach read.

:func:`read_run` turns a run directory (finished, still going, or killed by SIGKILL) into a
:class:`RunRecord`; whatever is missing or torn is simply not there, never an error
(except a missing ``run_config.json`` when ``require_config`` asks for it)::

    run = read_run(Path(".soakwatch/runs/smoke-20260101T000000Z"))
    run.profile["name"], run.config["host"]            # run_config.json
    end = run.first(StageEnd)                          # typed events (events.jsonl)
    crashes = run.of_type(WorkerCrash)
    run.timeline.last("calls"), run.timeline.rows      # timeline.csv + timeline_extra.csv
    run.timeline.value("rss_mb[monitor]", i)           # one cell, None when empty
    run.timeline.subjects("size_kb")                   # every X of the size_kb[X] columns
    run.hist_lines, run.summary                        # latency.hdr, summary.json
    run.phases["parse"].percentiles([95])              # phases.hdr (soakwatch.phase in the target)

``timeline.csv`` becomes one compact ``array('d')`` per column (an empty cell is NaN), so
a day of one-second ticks costs tens of MB, not hundreds. Series that first appear
mid-run (``timeline_extra.csv``: t, series, value) are merged in as columns aligned with
the timeline rows, NaN before they appeared. Events are typed records in ``seq`` order,
each with a non-decreasing "effective time", so the events up to a moment are one
bisection away (events from before the stage's clock started, such as the sandbox reset,
count as time -inf: they are there from the first row).
"""

from __future__ import annotations

import bisect
import csv
import math
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from soakwatch.config.safetext import JsonRefused, loads_bounded
from soakwatch.core.callvalues import PHASE_FILE, read_phases
from soakwatch.core.event_codec import read_records
from soakwatch.core.event_types import Event, StageStart
from soakwatch.core.histogram import LatencyHistogram
from soakwatch.core.rundir import read_run_config

__all__ = ["RunRecord", "Timeline", "read_profile", "read_run"]

E = TypeVar("E", bound=Event)

#: columns of timeline.csv that are text, not numbers
TEXT_COLUMNS = frozenset({"ts"})


@dataclass
class Timeline:
    """timeline.csv (and timeline_extra.csv) by column; row ``i`` is the stage's ``i``-th tick."""

    columns: dict[str, array[float]] = field(default_factory=dict)
    #: the ``ts`` column (UTC ISO 8601 of each row)
    stamps: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        t = self.columns.get("t")
        return len(t) if t is not None else 0

    @property
    def times(self) -> array[float]:
        return self.columns.get("t", array("d"))

    def value(self, column: str, i: int) -> float | None:
        """The cell, or None when the column is missing or the cell empty."""
        col = self.columns.get(column)
        if col is None or not -len(col) <= i < len(col):
            return None
        v = col[i]
        return None if math.isnan(v) else v

    def text(self, column: str, i: int) -> str:
        """The cell as timeline.csv holds it (the recorder writes at most 3 decimals)."""
        v = self.value(column, i)
        if v is None:
            return ""
        if not math.isfinite(v) or v.is_integer():
            return str(int(v)) if math.isfinite(v) else str(v)
        return f"{v:.3f}".rstrip("0").rstrip(".")

    def last(self, column: str) -> float | None:
        """The column's cell in the last row (None when empty there)."""
        return self.value(column, -1) if self.rows else None

    def tail(self, column: str, i: int, n: int) -> list[float]:
        """Up to ``n`` values of a column ending at row ``i`` (empty cells left out)."""
        col = self.columns.get(column)
        if col is None:
            return []
        return [v for v in col[max(0, i + 1 - n) : i + 1] if not math.isnan(v)]

    def tail_times(self, column: str, i: int, n: int) -> list[float]:
        """The times (``t``) of :meth:`tail`'s values."""
        col = self.columns.get(column)
        if col is None:
            return []
        times = self.times
        return [times[r] for r in range(max(0, i + 1 - n), i + 1) if not math.isnan(col[r])]

    def present(self, column: str) -> list[tuple[int, float]]:
        """(row, value) of every non-empty cell of a column."""
        col = self.columns.get(column)
        return [] if col is None else [(i, v) for i, v in enumerate(col) if not math.isnan(v)]

    def first_value(self, column: str) -> float | None:
        """The column's first non-empty cell."""
        col = self.columns.get(column)
        return next((v for v in col if not math.isnan(v)), None) if col is not None else None

    def subjects(self, kind: str) -> list[str]:
        """The ``X`` of every ``kind[X]`` column, in column order."""
        prefix = kind + "["
        return [c[len(prefix) : -1] for c in self.columns if c.startswith(prefix) and c.endswith("]")]


@dataclass
class RunRecord:
    """Everything a run directory says about a stage, read once, in time order."""

    run_dir: Path
    #: run_config.json ({} when missing and not required)
    config: dict[str, Any] = field(default_factory=dict)
    #: typed events in seq order
    events: list[Event] = field(default_factory=list)
    #: effective time of each event (non-decreasing; -inf before the stage's clock started)
    event_t: list[float] = field(default_factory=list)
    timeline: Timeline = field(default_factory=Timeline)
    #: latency.hdr: the encoded histogram of latencies (and of scheduled-start latencies)
    hist_lines: list[str] = field(default_factory=list)
    #: summary.json as written (None while running, or after a kill)
    summary: dict[str, Any] | None = None
    #: phases.hdr: a latency histogram per phase the target marked (soakwatch.phase)
    phases: dict[str, LatencyHistogram] = field(default_factory=dict)

    @property
    def profile(self) -> dict[str, Any]:
        p = self.config.get("profile")
        return p if isinstance(p, dict) else {}

    def of_type(self, *types: type[E]) -> list[E]:
        """The events of these record types (or their subclasses), in order."""
        return [e for e in self.events if isinstance(e, types)]

    def first(self, cls: type[E]) -> E | None:
        return next((e for e in self.events if isinstance(e, cls)), None)

    def events_before(self, t: float | None) -> list[Event]:
        """Events that happened before time ``t`` (all of them for None)."""
        if t is None:
            return self.events
        return self.events[: bisect.bisect_left(self.event_t, t)]


def _float(text: str) -> float:
    try:
        return float(text) if text else math.nan
    except ValueError:
        return math.nan


def _read_timeline(path: Path) -> Timeline:
    tl = Timeline()
    try:
        with path.open(newline="", encoding="utf-8", errors="backslashreplace") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                return tl
            keep = [(j, name) for j, name in enumerate(header) if name not in TEXT_COLUMNS]
            ts = header.index("ts") if "ts" in header else None
            for name in (n for _, n in keep):
                tl.columns[name] = array("d")
            for row in reader:
                if len(row) != len(header):  # a torn last row (the runner was killed mid-write)
                    continue
                for j, name in keep:
                    tl.columns[name].append(_float(row[j]))
                tl.stamps.append(row[ts] if ts is not None else "")
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return tl


def _merge_extra(tl: Timeline, path: Path) -> None:
    """Merge timeline_extra.csv in. The recorder writes a late series on every row once it
    appeared, after the row's timeline.csv line: a last row that lacks a series the row
    before had was torn by a kill between the two writes, and is left out like a torn line."""
    times = tl.columns.get("t")
    if times is None:
        return
    row_of = {round(t, 3): i for i, t in enumerate(times)}
    last_row: dict[str, int] = {}
    try:
        with path.open(newline="", encoding="utf-8", errors="backslashreplace") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for rec in reader:
                if len(rec) != 3 or (i := row_of.get(round(_float(rec[0]), 3))) is None:
                    continue  # torn, or a row whose timeline.csv line was torn
                col = tl.columns.get(rec[1])
                if col is None:
                    col = tl.columns[rec[1]] = array("d", [math.nan]) * len(times)
                col[i] = _float(rec[2])
                last_row[rec[1]] = max(i, last_row.get(rec[1], -1))
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    n = len(times)
    if n >= 2 and any(r == n - 2 for r in last_row.values()):
        for col in tl.columns.values():
            del col[n - 1 :]
        del tl.stamps[n - 1 :]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        obj = loads_bounded(path.read_bytes())  # not UTF-8, too deep or a huge number: read safely or not at all
    except (OSError, JsonRefused):
        return None
    return obj if isinstance(obj, dict) else None


def _read_hist(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return []


def _read_phases(path: Path) -> dict[str, LatencyHistogram]:
    try:
        return read_phases(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


def _effective_times(events: list[Event]) -> list[float]:
    start = next((e.seq for e in events if isinstance(e, StageStart)), None)
    out: list[float] = []
    high = -math.inf
    for e in events:
        t = -math.inf if start is None or e.seq < start else e.t
        high = max(high, t)
        out.append(high)
    return out


def read_profile(run_dir: Path) -> dict[str, Any]:
    """Only the resolved profile of run_config.json ({} when unreadable): cheap, for a setting."""
    profile = (_read_json(run_dir / "run_config.json") or {}).get("profile")
    return profile if isinstance(profile, dict) else {}


def read_events(run_dir: Path) -> list[Event]:
    """Only the typed events of events.jsonl, in seq order ([] when missing): what an attaching view shows first."""
    return sorted(read_records(run_dir / "events.jsonl"), key=lambda e: e.seq)


def read_run(run_dir: Path, *, require_config: bool = True) -> RunRecord:
    """Read a run directory. With ``require_config``, a directory without a readable
    run_config.json is a UsageError ("not a run directory"); otherwise it is read as is."""
    config = read_run_config(run_dir) if require_config else (_read_json(run_dir / "run_config.json") or {})
    events = read_events(run_dir)
    timeline = _read_timeline(run_dir / "timeline.csv")
    _merge_extra(timeline, run_dir / "timeline_extra.csv")
    return RunRecord(
        run_dir=run_dir,
        config=config,
        events=events,
        event_t=_effective_times(events),
        timeline=timeline,
        hist_lines=_read_hist(run_dir / "latency.hdr"),
        summary=_read_json(run_dir / "summary.json"),
        phases=_read_phases(run_dir / PHASE_FILE),
    )
