"""The collectors' part of the summary, rebuilt from the run directory alone.

Sections (``Summary.sections``), each from files the run flushed as it went, so they
are the same after a kill -9:

* ``files``       watched files: last size and lines, largest size, corrupt reads,
                  warnings and truncations (timeline.csv, events.jsonl)
* ``snapshots``   every snapshot with each file's lines and Δ (``snapshot`` events;
                  first and last rows kept when there are very many)
* ``actions``     reset / backup / truncate / size warning / corrupt read counts and a list
* ``integrity``   the ``unchanged`` baseline and every change seen (``integrity`` events)
* ``processes``   RSS, CPU and the memory trend per process (``rss/*.csv``), and the top
                  allocation sites when tracemalloc ran (``tracemalloc.json``)
* ``sources``     scrapes, JSON report folders and probes: first/last/min/max per field
                  (``sources/*.csv``) and failures

:data:`SECTION` is the collectors' :class:`~soakwatch.core.reports.ReportSection`, passed by
the caller composing a stage (nothing registers itself on import).
"""

from __future__ import annotations

import contextlib
import csv
import json
import statistics
from pathlib import Path
from typing import Any

from soakwatch.collectors._report_md import render_sections
from soakwatch.collectors._sources import read_source_log, source_log_path
from soakwatch.collectors._warmup import BASELINE_SAMPLES
from soakwatch.collectors.trend import fit_trend, time_to_limit
from soakwatch.core.event_types import (
    Backup,
    CollectorError,
    CorruptRead,
    Integrity,
    Reset,
    SizeWarning,
    SnapshotTaken,
    Truncate,
    TruncateRefused,
)
from soakwatch.core.reports import ReportSection
from soakwatch.core.rundir_reader import RunRecord

__all__ = ["SECTION", "build_sections", "render_sections"]

#: snapshot events kept in summary.json: the first and the last ones (events.jsonl has all)
SNAPSHOTS_HEAD, SNAPSHOTS_TAIL = 20, 180
ACTIONS_LISTED = 100
ACTION_TYPES = (Reset, Backup, Truncate, SizeWarning, CorruptRead, TruncateRefused)
ACTION_KINDS = tuple(t.KIND for t in ACTION_TYPES)
DEFAULT_WARMUP = 10.0


def _files(data: RunRecord) -> list[dict[str, Any]]:
    """Every watched file's last size and lines, from its columns (also those that first appeared mid-run)."""
    tl = data.timeline
    files: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(tl.subjects("size_kb") + tl.subjects("lines")):
        sizes = [v for _, v in tl.present(f"size_kb[{name}]")]
        lines = tl.present(f"lines[{name}]")
        if not sizes and not lines:
            continue
        files[name] = {
            "file": name,
            "size_kb": sizes[-1] if sizes else None,
            "max_kb": max([0.0, *sizes]),
            "lines": int(lines[-1][1]) if lines else None,
            "corrupt_reads": 0,
            "size_warnings": 0,
            "truncations": 0,
            "truncated_kb": 0.0,
        }
    for ev in data.events:
        if isinstance(ev, CorruptRead) and ev.file in files:
            files[ev.file]["corrupt_reads"] += 1
        elif isinstance(ev, SizeWarning) and ev.file in files:
            files[ev.file]["size_warnings"] += 1
        elif isinstance(ev, Truncate) and ev.file in files:
            files[ev.file]["truncations"] += 1
            files[ev.file]["truncated_kb"] += round(float(ev.bytes or 0) / 1024, 1)
    return sorted(files.values(), key=lambda f: f["file"])


def _snapshots(data: RunRecord) -> dict[str, Any]:
    rows = [
        {"label": ev.label, "previous": ev.previous, "calls": ev.calls, "t": ev.t, "files": ev.files}
        for ev in data.of_type(SnapshotTaken)
    ]
    omitted = max(0, len(rows) - SNAPSHOTS_HEAD - SNAPSHOTS_TAIL)
    if omitted:
        rows = rows[:SNAPSHOTS_HEAD] + rows[-SNAPSHOTS_TAIL:]
    return {"count": len(rows) + omitted, "omitted": omitted, "rows": rows}


def _actions(data: RunRecord) -> dict[str, Any]:
    evs = data.of_type(*ACTION_TYPES)
    counts = {k: 0 for k in ACTION_KINDS}
    for ev in evs:
        counts[ev.kind] += 1
    listed = [f"{ev.t:.1f}s [{ev.kind}] {ev.message}" for ev in evs[:ACTIONS_LISTED]]
    return {"counts": counts, "list": listed, "omitted": max(0, len(evs) - ACTIONS_LISTED)}


def _integrity(data: RunRecord) -> dict[str, Any] | None:
    evs = data.of_type(Integrity)
    if not evs:
        return None
    baseline = next((e for e in evs if e.change == "baseline"), None)
    final = next((e for e in reversed(evs) if e.change == "final"), None)
    changes = [
        {"file": e.file, "change": e.change, "label": e.label, "t": e.t}
        for e in evs
        if e.change not in ("baseline", "final")
    ]
    state: dict[str, str] = {}
    for c in changes:
        if c["change"] == "restored":
            state.pop(str(c["file"]), None)
        else:
            state[str(c["file"])] = str(c["change"])
    if final is not None:
        state = {str(k): str(v) for k, v in (final.states or {}).items()}
    return {
        "patterns": (baseline.patterns or []) if baseline else [],
        "baseline_files": (baseline.files or 0) if baseline else 0,
        "changes": changes,
        "changed_files": sorted(state),
        "states": state,
        "unchanged": not state,
        "final_check": final is not None,
    }


def _read_rss(path: Path) -> list[dict[str, float]]:
    out = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    out.append({k: float(v) for k, v in row.items() if k})
                except (TypeError, ValueError):
                    continue  # a row torn by a kill
    except FileNotFoundError:
        pass
    return out


def _process(name: str, rows: list[dict[str, float]], warmup: float, limit: float | None) -> dict[str, Any]:
    rss = [r["rss_mb"] for r in rows]
    cpu = [r["cpu_pct"] for r in rows]
    last = rows[-1]
    # the trend of the process now running under this name (a replaced worker starts afresh)
    pid = last["pid"]
    seg = [r for r in rows if r["pid"] == pid and r["t"] >= warmup] if name != "target" else []
    if name == "target":
        seg = [r for r in rows if r["t"] >= warmup]
    trend = fit_trend([r["t"] for r in seg], [r["rss_mb"] for r in seg]) if seg else None
    # the baseline the live series used: the median of the first samples after warm-up
    warm = statistics.median(r["rss_mb"] for r in seg[:BASELINE_SAMPLES]) if seg else None
    first = next((r["rss_mb"] for r in rows if r["pid"] == pid), rss[0]) if name != "target" else rss[0]
    out: dict[str, Any] = {
        "name": name,
        "samples": len(rows),
        "pids": sorted({int(r["pid"]) for r in rows if r["pid"]}),
        "rss_first_mb": round(rss[0], 3),
        "rss_last_mb": round(rss[-1], 3),
        "rss_max_mb": round(max(rss), 3),
        "rss_at_warmup_mb": round(warm, 3) if warm is not None else None,
        "growth": round(rss[-1] / warm, 4) if warm else None,
        "growth_start": round(rss[-1] / first, 4) if first else None,
        "cpu_mean": round(sum(cpu) / len(cpu), 1),
        "cpu_max": round(max(cpu), 1),
        "threads": int(last["threads"]),
        "open_files": int(last["open_files"]),
        "trend_points": trend.n if trend else 0,
        "slope_mb_h": round(trend.slope, 3) if trend else None,
        "slope_lo": round(trend.lo, 3) if trend else None,
        "slope_hi": round(trend.hi, 3) if trend else None,
        "r2": round(trend.r2, 3) if trend else None,
        "consistency": round(trend.consistency, 3) if trend else None,
        "confidence": round(trend.confidence, 3) if trend else None,
        "memory_limit_mb": limit,
        "limit_eta_s": None,
    }
    if trend and limit is not None:
        eta = time_to_limit(rss[-1], trend.slope, limit)
        out["limit_eta_s"] = round(eta, 1) if eta is not None else None
    return out


def _processes(data: RunRecord) -> dict[str, Any] | None:
    rss_dir = data.run_dir / "rss"
    files = sorted(rss_dir.glob("*.csv")) if rss_dir.is_dir() else []
    if not files:
        return None
    cfg = data.profile.get("processes") or {}
    warmup = float(cfg.get("warmup", DEFAULT_WARMUP))
    told = [e.data for e in data.events if e.kind == "memory_warmup"]
    reason = f"processes.warmup = {warmup:g}s"
    if told:  # the warm-up the stage used: it ends early in a stage shorter than five warm-ups
        warmup, reason = float(told[0].get("warmup_s") or warmup), str(told[0].get("reason") or reason)
    limit = cfg.get("memory_limit_mb")
    order = {"monitor": 0, "target": 1}
    procs = []
    for path in files:
        rows = _read_rss(path)
        if rows:
            procs.append(_process(path.stem, rows, warmup, limit))
    procs.sort(key=lambda p: (order.get(p["name"], 2), p["name"]))
    out: dict[str, Any] = {"warmup_s": warmup, "warmup_reason": reason, "list": procs}
    with contextlib.suppress(OSError, ValueError):
        out["tracemalloc"] = json.loads((data.run_dir / "tracemalloc.json").read_text(encoding="utf-8"))
    return out


def _sources(data: RunRecord) -> list[dict[str, Any]]:
    prof = data.profile
    out = []
    kinds = (("scrape", prof.get("scrape")), ("reports", prof.get("reports")), ("probe", prof.get("probe")))
    for kind, entries in ((k, e or []) for k, e in kinds):
        for entry in entries:
            name = str(entry.get("name"))
            rows = read_source_log(source_log_path(data.run_dir, name))
            fields: dict[str, dict[str, Any]] = {}
            reads = 0
            for _t, field, v in rows:
                if field == "_reports_read":
                    reads = max(reads, int(v))
                    continue
                f = fields.setdefault(field, {"first": v, "last": v, "min": v, "max": v, "n": 0})
                f["last"] = v
                f["min"] = min(f["min"], v)
                f["max"] = max(f["max"], v)
                f["n"] += 1
            collector = f"{kind}:{name}"
            errors = [e for e in data.of_type(CollectorError) if e.collector == collector]
            corrupt = [e for e in data.of_type(CorruptRead) if e.source == name]
            out.append(
                {
                    "name": name,
                    "kind": kind,
                    "where": entry.get("url") or entry.get("path") or entry.get("command"),
                    "samples": len({t for t, _, _ in rows}),
                    "reports_read": reads if kind == "reports" else None,
                    "fields": fields,
                    "failures": _failure_total(errors),
                    "failure_events": len(errors),
                    "last_failure": errors[-1].message if errors else None,
                    "corrupt_reads": len(corrupt),
                }
            )
    return out


def _failure_total(errors: list[CollectorError]) -> int:
    """Failures in all streaks: each event carries the running count of its source's streak."""
    total = 0
    last: dict[str, int] = {}
    for e in errors:
        src, count = str(e.source), int(e.count if e.count is not None else 1)
        if count <= last.get(src, 0):
            total += last[src]
        last[src] = count
    return total + sum(last.values())


def build_sections(data: RunRecord) -> dict[str, Any]:
    """The collectors' summary sections (empty ones left out)."""
    out: dict[str, Any] = {}
    files = _files(data)
    if files:
        out["files"] = files
    snaps = _snapshots(data)
    if snaps["count"]:
        out["snapshots"] = snaps
    actions = _actions(data)
    if any(actions["counts"].values()):
        out["actions"] = actions
    integ = _integrity(data)
    if integ is not None:
        out["integrity"] = integ
    procs = _processes(data)
    if procs is not None:
        out["processes"] = procs
    sources = _sources(data)
    if sources:
        out["sources"] = sources
    return out


SECTION = ReportSection("collectors", build_sections, render_sections)
