"""``soakwatch compare RUN_DIR...``: stages side by side, regressions against the first run.

Each run is read through the one reader of run directories
(:func:`soakwatch.core.rundir_reader.read_run`): its ``summary.json``, rebuilt with
:func:`soakwatch.core.reports.build_summary` and the report sections the caller passes when
missing or unreadable (a run that is still going or was killed), and its timeline for
the growth of watched files (also files that first appeared mid-run). Sections that
collectors and gates add to the summary (``files``, ``snapshots``, ``processes``,
``integrity``, ``gates``) give rows when they are present; a run without one shows ``—``.

The model (:class:`Comparison`) is apart from its printing (``soakwatch.analysis.compare_render``):
one :class:`Row` per measure, one value per run, each later run judged against the first
with a :class:`~soakwatch.analysis.tolerance.Tolerance` (defaults in :data:`MEASURES`, overridden
with ``--tolerance``). Any regression makes ``compare`` exit 1, for CI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from soakwatch.analysis._compare_facts import Value, facts_of, load_run
from soakwatch.analysis._compare_facts import load_summary as load_summary
from soakwatch.analysis._compare_figures import num as _num
from soakwatch.analysis._compare_figures import sampled
from soakwatch.analysis.tolerance import Direction, Outcome, Tolerance, judge, parse_tolerances
from soakwatch.config.errors import UsageError
from soakwatch.core.reports import ReportSection

__all__ = ["MEASURES", "Comparison", "Measure", "Row", "RunInfo", "compare_runs", "load_summary"]


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
DELTA_FLOOR = 1.0


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
        _m("failures", "failed calls in failures.jsonl", optional=True, fmt="int"),
        _m("missed", "missed arrivals", worse="higher", default=Tolerance("abs", 0), optional=True, fmt="int"),
        _m("p50", "latency p50 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("p95", "latency p95 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("p99", "latency p99 (ms)", worse="higher", default=Tolerance("rel", 50), floor=LATENCY_FLOOR_MS),
        _m("phase_p50", "p50 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("phase_p95", "p95 (ms)", worse="higher", default=Tolerance("rel", 25), floor=LATENCY_FLOOR_MS),
        _m("error_kind", "errors (% of calls)", worse="higher", default=Tolerance("pp", 0.5), ratio=True, fmt="pct"),
        _m("tokens", "tokens per call", optional=True),
        _m("token_rate", "output tokens/s", worse="lower", default=Tolerance("rel", 25), optional=True),
        _m("endpoint_share", "share of the calls (%)", ratio=True, fmt="pct", optional=True),
        _m(
            "endpoint_errors",
            "errors (% of the endpoint's calls)",
            worse="higher",
            default=Tolerance("pp", 0.5),
            ratio=True,
            fmt="pct",
            optional=True,
        ),
        _m(
            "delta_lines",
            "Δ lines per 1k calls (whole snapshot intervals)",
            worse="higher",
            default=Tolerance("rel", 10),
            floor=DELTA_FLOOR,
        ),
        _m(
            "growth_kb",
            "growth (KB/1k calls, untouched whole intervals)",
            worse="higher",
            default=Tolerance("rel", 25),
            floor=GROWTH_FLOOR_KB,
        ),
        _m("rss_max", "RSS max (MB)"),
        _m(
            "rss_growth_kcalls",
            "RSS growth after warm-up (MB/1k calls)",
            worse="higher",
            default=Tolerance("abs", 5),
            floor=RSS_FLOOR_MB,
        ),
        _m("rss_slope", "RSS slope (MB/h)", worse="higher", default=Tolerance("abs", 10)),
        _m("field", "(last value)"),
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
        if self.measure.key in ("error_kind", "field"):
            return f"{self.subject} {self.measure.label}"
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
                n = [_num(f.get(("calls", None))) or 0.0 for f in facts]
                row.outcomes = first + [
                    sampled(
                        measure.key,
                        n[0],
                        n[i],
                        base,
                        v,
                        judge(_num(base), _num(v), measure.worse, row.tolerance, measure.floor),
                    )
                    for i, v in enumerate(values[1:], start=1)
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


def compare_runs(
    run_dirs: Sequence[Path], tolerance_texts: Iterable[str] = (), *, sections: Sequence[ReportSection]
) -> Comparison:
    """Read the runs and compare each with the first. Raises UsageError on bad input."""
    if not run_dirs:
        raise UsageError("give at least one run directory", where="compare")
    given = parse_tolerances(
        tolerance_texts,
        MEASURES,
        [m.key for m in MEASURES.values() if m.ratio],
        [m.key for m in MEASURES.values() if m.flag],
    )
    loaded = [load_run(d, sections) for d in run_dirs]
    summaries = [s for s, _, _ in loaded]
    facts = [facts_of(s, run) for s, _, run in loaded]
    runs = [
        RunInfo(
            label=label,
            stage=str(s.get("stage", "?")),
            run_dir=str(d),
            state=str(s.get("state", "?")),
            complete=bool(s.get("complete", True)),
            rebuilt=rebuilt,
        )
        for label, (s, rebuilt, _), d in zip(_labels(summaries), loaded, run_dirs, strict=True)
    ]
    return Comparison(runs, _build_rows(facts, given), given)
