"""``soakwatch compare RUN_DIR...``: stages side by side, regressions against the first run.

Each run is read from its ``summary.json`` (rebuilt from the run directory with
:func:`soakwatch.core.reports.build_summary` when missing or unreadable, e.g. for a run that
is still going or was killed). Sections that collectors and gates add to the summary
(``files``, ``snapshots``, ``processes``, ``integrity``, ``gates``) give rows when they
are present; a run without one shows ``—`` there.

The model (:class:`Comparison`) is apart from its printing (``soakwatch.analysis.compare_render``):
one :class:`Row` per measure, one value per run, each later run judged against the first
with a :class:`~soakwatch.analysis.tolerance.Tolerance` (defaults in :data:`MEASURES`, overridden
with ``--tolerance``). Any regression makes ``compare`` exit 1, for CI.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from soakwatch.analysis.tolerance import Direction, Outcome, Tolerance, judge, parse_tolerances
from soakwatch.config.errors import UsageError
from soakwatch.config.safetext import JsonRefused, loads_bounded

__all__ = ["MEASURES", "Comparison", "Measure", "Row", "RunInfo", "compare_runs", "load_summary"]

Value = float | str | None


@dataclass(frozen=True)
class Measure:
    """One kind of row: its tolerance key, its label (with the unit) and which way is worse."""

    key: str
    label: str
    worse: Direction | None = None
    default: Tolerance | None = None
    ratio: bool = False
    #: text rows (verdict, gates): judged by rank, tolerance only 'off'/'on'
    flag: bool = False
    #: hidden when every run shows 0 or nothing
    optional: bool = False
    #: noise floor in the row's unit: a smaller change is never a regression under a relative tolerance
    floor: float = 0.0
    fmt: Literal["num", "int", "pct", "text"] = "num"


#: noise floors under relative tolerances (module Measure.floor)
LATENCY_FLOOR_MS = 0.1
GROWTH_FLOOR_KB = 5.0
RSS_FLOOR_MB = 5.0


def _m(key: str, label: str, **kw: Any) -> Measure:
    return Measure(key, label, **kw)


#: every measure compare knows, in row order; defaults are what "a regression" means without --tolerance
MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        _m("verdict", "verdict", worse="higher", default=Tolerance("on"), flag=True, fmt="text"),
        _m("plan", "plan", fmt="text"),
        _m("labels", "labels", fmt="text"),
        _m("seed", "seed", fmt="text"),
        _m("calls", "calls", fmt="int"),
        _m("duration", "duration (s)"),
        _m("rate", "throughput (calls/s)", worse="lower", default=Tolerance("rel", 25)),
        _m("error_ratio", "error ratio (%)", worse="higher", default=Tolerance("pp", 0.5), ratio=True, fmt="pct"),
        _m("p50", "latency p50 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("p95", "latency p95 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("p99", "latency p99 (ms)", worse="higher", default=Tolerance("rel", 50), floor=LATENCY_FLOOR_MS),
        _m("phase_p50", "p50 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("phase_p95", "p95 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("delta_lines", "Δ lines (last snapshot)", worse="higher", default=Tolerance("rel", 10), fmt="int"),
        _m("growth_kb", "growth (KB/1k calls)", worse="higher", default=Tolerance("rel", 25), floor=GROWTH_FLOOR_KB),
        _m("rss_max", "RSS max (MB)", worse="higher", default=Tolerance("rel", 25), floor=RSS_FLOOR_MB),
        _m("rss_slope", "RSS slope (MB/h)", worse="higher", default=Tolerance("abs", 10)),
        _m("files_changed", "files changed (integrity)", worse="higher", default=Tolerance("abs", 0), fmt="int"),
        _m("worker_crashes", "worker crashes", worse="higher", default=Tolerance("abs", 0), optional=True, fmt="int"),
        _m("hangs", "hung calls", worse="higher", default=Tolerance("abs", 0), optional=True, fmt="int"),
        _m("gates_failed", "gates failed", fmt="text"),
        _m("gate", "gate", worse="higher", default=Tolerance("on"), flag=True, fmt="text"),
    )
}

#: rank of a verdict / gate status: higher is worse; a regression is reaching FAIL_RANK from below
VERDICT_RANK = {"PASSED": 0}
GATE_RANK = {"pass": 0, "exempt": 0, "insufficient_data": 0, "incomplete": 0, "warn": 1, "fail": 2}
FAIL_RANK = {"verdict": 1, "gate": 2}
_WORKER = re.compile(r"^worker-\d+$")
_SIZE_COL = re.compile(r"^size_kb\[(.+)\]$")


@dataclass(frozen=True)
class RunInfo:
    """One column: a run directory and what it was."""

    label: str
    stage: str
    run_dir: str
    state: str
    complete: bool
    rebuilt: bool


@dataclass
class Row:
    """One measure (of one subject: a file, a process, a gate) across the runs."""

    key: str
    measure: Measure
    subject: str | None
    values: list[Value]
    tolerance: Tolerance | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    #: the subject as shown (a file's base name when that is unambiguous)
    shown: str | None = None

    @property
    def label(self) -> str:
        if self.measure.key == "gate":
            return f"gate: {self.subject}"
        return f"{self.shown or self.subject} {self.measure.label}" if self.subject else self.measure.label

    def change(self, i: int) -> float | None:
        """Change of run ``i`` against the first run: relative (0.1 = +10%), or absolute for ratios."""
        base, v = self.values[0], self.values[i]
        if not isinstance(base, float | int) or not isinstance(v, float | int) or self.measure.flag:
            return None
        if self.measure.ratio:
            return float(v - base)
        if base == 0:
            return None
        return float((v - base) / abs(base))


@dataclass
class Comparison:
    """The whole comparison: columns, rows and the regressions found."""

    runs: list[RunInfo]
    rows: list[Row]
    tolerances: dict[str, Tolerance]

    @property
    def regressions(self) -> list[tuple[Row, int]]:
        return [(row, i) for row in self.rows for i, o in enumerate(row.outcomes) if o == "regression"]

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``: every value, change and outcome."""
        return {
            "schema_version": 1,
            "baseline": self.runs[0].run_dir if self.runs else None,
            "runs": [vars(r) for r in self.runs],
            "rows": [
                {
                    "key": row.key,
                    "measure": row.measure.key,
                    "subject": row.subject,
                    "label": row.label,
                    "worse": row.measure.worse,
                    "tolerance": str(row.tolerance) if row.tolerance else None,
                    "values": row.values,
                    "changes": [row.change(i) if i else None for i in range(len(row.values))],
                    "outcomes": row.outcomes,
                }
                for row in self.rows
            ],
            "regressions": [
                {
                    "row": row.label,
                    "key": row.key,
                    "run": self.runs[i].run_dir,
                    "baseline": row.values[0],
                    "value": row.values[i],
                    "tolerance": str(row.tolerance),
                }
                for row, i in self.regressions
            ],
            "tolerances": {k: str(v) for k, v in self.tolerances.items()},
        }


# ------------------------------------------------------------------ reading runs
def load_summary(run_dir: Path) -> tuple[dict[str, Any], bool]:
    """(summary as plain data, whether it had to be rebuilt from the run directory)."""
    if not run_dir.is_dir():
        raise UsageError("no such run directory", where="compare", value=str(run_dir))
    try:
        data = loads_bounded((run_dir / "summary.json").read_bytes())
        if isinstance(data, dict) and "stage" in data:
            return data, False
    except (OSError, JsonRefused):
        pass
    from soakwatch.core.reports import build_summary

    rebuilt: dict[str, Any] = json.loads(build_summary(run_dir).model_dump_json())
    return rebuilt, True


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def _plan(s: dict[str, Any]) -> str:
    size = f"{s['planned_calls']} calls" if s.get("planned_calls") else f"{s.get('planned_duration') or 0:g}s"
    load = f"{s['rate']:g}/s" if s.get("rate") else f"c{s.get('concurrency', 1)}"
    return f"{size} · {load}"


def _file_growth(run_dir: Path) -> dict[str, float]:
    """KB per 1000 calls for each watched file, from the first to the last timeline row that has it."""
    first: dict[str, tuple[float, float]] = {}
    last: dict[str, tuple[float, float]] = {}
    try:
        with (run_dir / "timeline.csv").open(newline="", encoding="utf-8", errors="backslashreplace") as fh:
            for row in csv.DictReader(fh):
                calls = _float(row.get("calls"))
                if calls is None:
                    continue
                for col, text in row.items():
                    m = _SIZE_COL.match(col or "")
                    kb = _float(text) if m else None
                    if m and kb is not None:
                        first.setdefault(m.group(1), (calls, kb))
                        last[m.group(1)] = (calls, kb)
    except (OSError, csv.Error):
        return {}
    out = {}
    for name, (c1, kb1) in last.items():
        c0, kb0 = first[name]
        if c1 > c0:
            out[name] = (kb1 - kb0) / (c1 - c0) * 1000
    return out


def _float(text: str | None) -> float | None:
    try:
        v = float(text) if text else None
    except ValueError:
        return None
    return v if v is not None and math.isfinite(v) else None


def _facts(s: dict[str, Any], run_dir: Path) -> dict[tuple[str, str | None], Value]:
    """Every value this run has, by (measure key, subject)."""
    lat = s.get("latency") or {}
    out: dict[tuple[str, str | None], Value] = {
        ("verdict", None): str(s.get("state", "?")) + ("" if s.get("complete", True) else " (incomplete)"),
        ("plan", None): _plan(s),
        ("labels", None): ", ".join(f"{k}={v}" for k, v in (s.get("labels") or {}).items()) or None,
        ("seed", None): str(s["seed"]) if s.get("seed") is not None else None,
        ("calls", None): _num(s.get("calls")),
        ("duration", None): _num(s.get("duration_s")),
        ("rate", None): _num(s.get("rate_avg")),
        ("error_ratio", None): _num(s.get("error_ratio")),
        ("p50", None): _num(lat.get("p50")) if lat.get("count") else None,
        ("p95", None): _num(lat.get("p95")) if lat.get("count") else None,
        ("p99", None): _num(lat.get("p99")) if lat.get("count") else None,
        ("worker_crashes", None): _num(s.get("worker_crashes")),
        ("hangs", None): _num(s.get("hangs")),
    }
    for name, ph in (s.get("phases") or {}).items():  # soakwatch.phase: one row per phase
        if isinstance(ph, dict) and ph.get("count"):
            out[("phase_p50", f"phase {name}")] = _num(ph.get("p50"))
            out[("phase_p95", f"phase {name}")] = _num(ph.get("p95"))
    sec = s.get("sections") or {}
    rows = (sec.get("snapshots") or {}).get("rows") or []
    if rows:
        for name, f in (rows[-1].get("files") or {}).items():
            out[("delta_lines", str(name))] = _num(f.get("delta"))
    for name, kb in _file_growth(run_dir).items():
        out[("growth_kb", name)] = kb
    for p in (sec.get("processes") or {}).get("list") or []:
        name = str(p.get("name"))
        if not _WORKER.match(name):
            out[("rss_max", name)] = _num(p.get("rss_max_mb"))
            out[("rss_slope", name)] = _num(p.get("slope_mb_h"))
    integ = sec.get("integrity")
    if integ:
        out[("files_changed", None)] = float(len(integ.get("changed_files") or []))
    gates = sec.get("gates") or {}
    grows = gates.get("rows") or []
    if grows:
        out[("gates_failed", None)] = f"{len(gates.get('failed') or [])} of {len(grows)}"
    for g in grows:
        out[("gate", str(g.get("gate")))] = str(g.get("status", "?"))
    return out


# ------------------------------------------------------------------ judging
def _rank(measure: str, v: Value) -> float | None:
    if not isinstance(v, str):
        return None
    if measure == "verdict":
        return float(VERDICT_RANK.get(v, 1))
    return float(GATE_RANK.get(v, 0))


def _judge_flag(row: Row) -> list[Outcome]:
    fail = FAIL_RANK[row.measure.key]
    base = _rank(row.measure.key, row.values[0])
    outs: list[Outcome] = [""]
    for v in row.values[1:]:
        r = _rank(row.measure.key, v)
        if r is None or row.tolerance is None or row.tolerance.kind == "off":
            outs.append("")
        elif r >= fail and (base is None or base < fail):
            outs.append("regression")
        elif base is not None and base >= fail and r < fail:
            outs.append("better")
        else:
            outs.append("")
    return outs


def _tolerance_for(key: str, measure: Measure, given: dict[str, Tolerance]) -> Tolerance | None:
    tol = given.get(key, given.get(measure.key, measure.default))
    if tol is not None and tol.kind == "on" and not measure.flag:
        tol = measure.default or Tolerance("abs", 0)
    return tol


def _build_rows(facts: list[dict[tuple[str, str | None], Value]], given: dict[str, Tolerance]) -> list[Row]:
    rows: list[Row] = []
    for measure in MEASURES.values():
        subjects: list[str | None] = []
        for f in facts:
            for key, subject in f:
                if key == measure.key and subject not in subjects:
                    subjects.append(subject)
        for subject in subjects:
            values = [f.get((measure.key, subject)) for f in facts]
            if all(v is None for v in values):
                continue
            if measure.optional and all(not v for v in values):
                continue
            if measure.key == "gate" and all(v == "pass" for v in values):
                continue  # the "gates failed" row counts it; a table of passes hides what changed
            key = f"{measure.key}[{subject}]" if subject else measure.key
            row = Row(key, measure, subject, values, _tolerance_for(key, measure, given))
            if measure.flag:
                row.outcomes = _judge_flag(row)
            elif measure.worse is not None:
                base = values[0]
                first: list[Outcome] = [""]
                row.outcomes = first + [
                    judge(_num(base), _num(v), measure.worse, row.tolerance, measure.floor) for v in values[1:]
                ]
            else:
                row.outcomes = ["" for _ in values]
            rows.append(row)
    paths = {r.subject for r in rows if r.subject and "/" in r.subject and r.measure.key != "gate"}
    if len({Path(p).name for p in paths}) == len(paths):  # base names say it without ambiguity
        for r in rows:
            if r.subject in paths:
                r.shown = Path(r.subject).name
    return rows


def _labels(summaries: Sequence[dict[str, Any]]) -> list[str]:
    names = [str(s.get("stage", "?")) for s in summaries]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if names.count(name) == 1 else f"{name} #{seen[name]}")
    return out


def compare_runs(run_dirs: Sequence[Path], tolerance_texts: Iterable[str] = ()) -> Comparison:
    """Read the runs and compare each with the first. Raises UsageError on bad input."""
    if not run_dirs:
        raise UsageError("give at least one run directory", where="compare")
    given = parse_tolerances(
        tolerance_texts,
        MEASURES,
        [m.key for m in MEASURES.values() if m.ratio],
        [m.key for m in MEASURES.values() if m.flag],
    )
    loaded = [load_summary(d) for d in run_dirs]
    summaries = [s for s, _ in loaded]
    facts = [_facts(s, d) for s, d in zip(summaries, run_dirs, strict=True)]
    runs = [
        RunInfo(
            label=label,
            stage=str(s.get("stage", "?")),
            run_dir=str(d),
            state=str(s.get("state", "?")),
            complete=bool(s.get("complete", True)),
            rebuilt=rebuilt,
        )
        for label, (s, rebuilt), d in zip(_labels(summaries), loaded, run_dirs, strict=True)
    ]
    return Comparison(runs, _build_rows(facts, given), given)
