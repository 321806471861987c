"""A finished (or crashed) run directory read back for replay: timeline rows, events, summary.

``timeline.csv`` becomes one compact ``array('d')`` per column (an empty cell is NaN),
so a day of one-second ticks costs tens of MB, not hundreds. ``events.jsonl`` is kept
as parsed dicts with a non-decreasing "effective time" per event, so the events up
to a moment are one bisection away (events from before the stage's clock started,
such as the sandbox reset, count as time -inf: they are there from the first row).
"""

from __future__ import annotations

import bisect
import csv
import math
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soakwatch.config.safetext import JsonRefused, loads_bounded
from soakwatch.core.events import read_events

__all__ = ["Recording", "load_recording"]

#: columns that are not numbers
TEXT_COLUMNS = frozenset({"ts"})


@dataclass
class Recording:
    """What a run dir says about a stage, in time order."""

    run_dir: Path
    columns: dict[str, array[float]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    event_t: list[float] = field(default_factory=list)  # effective times, non-decreasing
    summary: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)

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
        if col is None or not 0 <= i < len(col):
            return None
        v = col[i]
        return None if math.isnan(v) else v

    def tail(self, column: str, i: int, n: int) -> list[float]:
        """Up to ``n`` values of a column ending at row ``i`` (empty cells left out)."""
        col = self.columns.get(column)
        if col is None:
            return []
        return [v for v in col[max(0, i + 1 - n) : i + 1] if not math.isnan(v)]

    def subjects(self, kind: str) -> list[str]:
        """The ``X`` of every ``kind[X]`` column, in column order."""
        prefix = kind + "["
        return [c[len(prefix) : -1] for c in self.columns if c.startswith(prefix) and c.endswith("]")]

    def events_before(self, t: float | None) -> list[dict[str, Any]]:
        """Events that happened before time ``t`` (all of them for None)."""
        if t is None:
            return self.events
        return self.events[: bisect.bisect_left(self.event_t, t)]

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("kind") == kind), None)

    @property
    def profile(self) -> dict[str, Any]:
        p = self.config.get("profile")
        return p if isinstance(p, dict) else {}


def _float(text: str) -> float:
    try:
        return float(text) if text else math.nan
    except ValueError:
        return math.nan


def _read_timeline(path: Path) -> dict[str, array[float]]:
    columns: dict[str, array[float]] = {}
    try:
        with path.open(newline="", encoding="utf-8", errors="backslashreplace") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                return {}
            keep = [(j, name) for j, name in enumerate(header) if name not in TEXT_COLUMNS]
            for name in (n for _, n in keep):
                columns[name] = array("d")
            for row in reader:
                if len(row) != len(header):  # a torn last row (the runner was killed mid-write)
                    continue
                for j, name in keep:
                    columns[name].append(_float(row[j]))
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return columns


def _merge_extra(columns: dict[str, array[float]], path: Path) -> None:
    """Add the series that first appeared mid-run (``timeline_extra.csv``: t, series, value) as
    columns aligned with the timeline rows (NaN before they appeared)."""
    times = columns.get("t")
    if times is None:
        return
    row_of = {round(t, 3): i for i, t in enumerate(times)}
    try:
        with path.open(newline="", encoding="utf-8", errors="backslashreplace") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for rec in reader:
                if len(rec) != 3 or (i := row_of.get(round(_float(rec[0]), 3))) is None:
                    continue
                col = columns.get(rec[1])
                if col is None:
                    col = columns[rec[1]] = array("d", [math.nan]) * len(times)
                col[i] = _float(rec[2])
    except (OSError, UnicodeDecodeError, csv.Error):
        pass


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        obj = loads_bounded(path.read_bytes())
    except (OSError, JsonRefused):
        return None
    return obj if isinstance(obj, dict) else None


def _effective_times(events: list[dict[str, Any]]) -> list[float]:
    start = next((e.get("seq", 0) for e in events if e.get("kind") == "stage_start"), None)
    out: list[float] = []
    high = -math.inf
    for e in events:
        try:
            t = float(e.get("t", 0.0))
        except (TypeError, ValueError):
            t = high
        if start is None or int(e.get("seq", 0)) < int(start):
            t = -math.inf
        high = max(high, t)
        out.append(high)
    return out


def load_recording(run_dir: Path) -> Recording:
    """Read a run dir; whatever is missing or torn is simply not there."""
    events = sorted(read_events(run_dir / "events.jsonl"), key=lambda e: int(e.get("seq", 0)))
    columns = _read_timeline(run_dir / "timeline.csv")
    _merge_extra(columns, run_dir / "timeline_extra.csv")
    return Recording(
        run_dir=run_dir,
        columns=columns,
        events=events,
        event_t=_effective_times(events),
        summary=_read_json(run_dir / "summary.json"),
        config=_read_json(run_dir / "run_config.json") or {},
    )
