"""What compare reads from one run directory: its summary, rebuilt when missing, and every value by measure."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from soakwatch.analysis._compare_figures import delta_per_kcalls, growth_per_kcalls, memory, tokens
from soakwatch.analysis._compare_figures import num as _num
from soakwatch.config.errors import UsageError
from soakwatch.core.failures import count_failures
from soakwatch.core.reports import ReportSection, build_summary
from soakwatch.core.rundir_reader import RunRecord, read_run

__all__ = ["Value", "facts_of", "load_run", "load_summary"]

Value = float | str | None
_WORKER = re.compile(r"^worker-\d+$")


def load_summary(run_dir: Path, sections: Sequence[ReportSection]) -> tuple[dict[str, Any], bool]:
    """(summary as plain data, whether it had to be rebuilt from the run directory)."""
    summary, rebuilt, _ = load_run(run_dir, sections)
    return summary, rebuilt


def load_run(run_dir: Path, sections: Sequence[ReportSection]) -> tuple[dict[str, Any], bool, RunRecord]:
    """(summary as plain data, whether it was rebuilt, the run as read); UsageError when it is no directory."""
    if not run_dir.is_dir():
        raise UsageError("no such run directory", where="compare", value=str(run_dir))
    run = read_run(run_dir, require_config=False)
    if isinstance(run.summary, dict) and "stage" in run.summary:
        return run.summary, False, run
    run = read_run(run_dir)  # rebuilding needs run_config.json: "not a run directory" without it
    rebuilt: dict[str, Any] = json.loads(build_summary(run, sections).model_dump_json())
    return rebuilt, True, run


def _plan(s: dict[str, Any]) -> str:
    size = f"{s['planned_calls']} calls" if s.get("planned_calls") else f"{s.get('planned_duration') or 0:g}s"
    load = f"{s['rate']:g}/s" if s.get("rate") else f"c{s.get('concurrency', 1)}"
    return f"{size} · {load}"


def _file_growth(run: RunRecord) -> dict[str, float]:
    """KB per 1000 calls for each watched file, from the first to the last timeline row that has it."""
    tl = run.timeline
    out = {}
    for name in tl.subjects("size_kb"):
        seen = [(c, kb) for i, kb in tl.present(f"size_kb[{name}]") if (c := tl.value("calls", i)) is not None]
        if len(seen) > 1 and seen[-1][0] > seen[0][0]:
            (c0, kb0), (c1, kb1) = seen[0], seen[-1]
            out[name] = (kb1 - kb0) / (c1 - c0) * 1000
    return out


def _file_facts(sec: dict[str, Any], run: RunRecord) -> dict[tuple[str, str | None], Value]:
    """Δ lines and growth per 1000 calls of each watched file."""
    out: dict[tuple[str, str | None], Value] = {}
    rows = (sec.get("snapshots") or {}).get("rows") or []
    for name, per_k in delta_per_kcalls(rows).items():
        out[("delta_lines", name)] = per_k
    # a file with snapshots grows per whole untouched interval (a bounded log soakwatch reset refills
    # to its bound: not growth); one without, from its first to its last timeline row, unless reset
    snapped = {name for row in rows for name in (row.get("files") or {})}
    touched = {str(e.data.get("file")) for e in run.events if e.kind in ("truncate", "reset")}
    for name, kb in _file_growth(run).items():
        if name not in snapped and name not in touched:
            out[("growth_kb", name)] = kb
    for name, kb in growth_per_kcalls(rows).items():
        out[("growth_kb", name)] = kb
    return out


def facts_of(s: dict[str, Any], run: RunRecord) -> dict[tuple[str, str | None], Value]:
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
        ("failures", None): float(count_failures(run.run_dir)),
        ("missed", None): _num(s.get("missed_arrivals")),
        ("hangs", None): _num(s.get("hangs")),
    }
    for name, ph in (s.get("phases") or {}).items():  # soakwatch.phase: one row per phase
        if isinstance(ph, dict) and ph.get("count"):
            out[("phase_p50", f"phase {name}")] = _num(ph.get("p50"))
            out[("phase_p95", f"phase {name}")] = _num(ph.get("p95"))
    sec = s.get("sections") or {}
    calls = _num(s.get("calls")) or 0.0
    for e in s.get("errors_by_kind") or []:
        if calls:
            out[("error_kind", str(e.get("kind")))] = float(e.get("count") or 0) / calls
    out.update(tokens({c: run.timeline.last(c) for c in ("tokens_prompt", "tokens_completion")}, calls))
    if isinstance(tok := sec.get("tokens"), dict):
        out[("token_rate", None)] = _num(tok.get("completion_per_s"))
    for ep in sec.get("endpoints") or []:  # a request mix: one row per endpoint
        out[("endpoint_share", str(ep.get("endpoint")))] = _num(ep.get("share"))
        out[("endpoint_errors", str(ep.get("endpoint")))] = _num(ep.get("error_ratio"))
    out.update(_file_facts(sec, run))
    for p in (sec.get("processes") or {}).get("list") or []:
        name = str(p.get("name"))
        if not _WORKER.match(name):
            out[("rss_max", name)] = _num(p.get("rss_max_mb"))
            out.update(memory(name, p, calls))
    for src in sec.get("sources") or []:
        for fname, f in (src.get("fields") or {}).items():
            out[("field", f"{fname}[{src.get('name')}]")] = _num(f.get("last"))
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
