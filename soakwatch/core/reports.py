"""Reports: build the :class:`Summary` from the run directory, render and write it.

``build_summary`` reads only what is on disk (through the one reader,
:func:`soakwatch.core.rundir_reader.read_run`), so it serves both the end of a run and
``soakwatch report RUN_DIR`` after a crash. Renderers (Markdown here; JUnit and
failures.md by the gates) turn the model into files; the headless view prints it.

Plugins add their parts as :class:`ReportSection` values (``soakwatch.gates.report.SECTION``,
``soakwatch.collectors.report.SECTION``, ``soakwatch.nodes.report.SECTION``); the caller
that composes a stage passes the list (``soakwatch.sections.report_sections()``), so
nothing registers itself on import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soakwatch.config.units import format_duration
from soakwatch.core.event_types import (
    CallError,
    ErrorCounts,
    Hang,
    Operator,
    OrphansKilled,
    StageEnd,
    StageStart,
    WorkerCrash,
    WorkerRestart,
)
from soakwatch.core.failures import FAILURES_FILE, count_failures
from soakwatch.core.histogram import LatencyHistogram
from soakwatch.core.rundir_reader import RunRecord, read_run
from soakwatch.core.summary import ErrorSummary, LatencySummary, Summary

__all__ = ["ReportSection", "build_summary", "render_markdown", "write_reports"]


@dataclass(frozen=True)
class ReportSection:
    """A plugin's part of the report, rebuilt from the run directory alone.

    ``build`` returns the plugin's entries of ``Summary.sections`` (``{}`` when it has
    nothing to say); ``markdown`` renders them as lines of summary.md; ``write`` writes
    extra report files (junit.xml, failures.md) and returns their paths.
    """

    name: str
    build: Callable[[RunRecord], dict[str, Any]]
    markdown: Callable[[Summary], list[str]] | None = None
    write: Callable[[Summary, RunRecord], list[Path]] | None = None


def _latency(encoded: str | None) -> LatencySummary:
    if not encoded:
        return LatencySummary()
    try:
        h = LatencyHistogram.decode(encoded)
    except Exception:
        return LatencySummary()
    return _hist_summary(h)


def _hist_summary(h: LatencyHistogram) -> LatencySummary:
    if not h.total:
        return LatencySummary()
    p = [v / 1000 for v in h.percentiles([50, 90, 95, 99, 99.9])]
    return LatencySummary(
        count=h.total,
        p50=p[0],
        p90=p[1],
        p95=p[2],
        p99=p[3],
        p999=p[4],
        max=h.hdr.get_max_value() / 1000,
        mean=h.mean() / 1000,
    )


def _errors_by_kind(run: RunRecord) -> list[ErrorSummary]:
    kinds: dict[str, ErrorSummary] = {}
    for ev in run.events:
        if isinstance(ev, ErrorCounts):
            for kind, n in ev.counts.items():
                es = kinds.setdefault(kind, ErrorSummary(kind=kind, count=0))
                es.count += int(n)
        elif isinstance(ev, CallError):
            es = kinds.setdefault(ev.error_kind, ErrorSummary(kind=ev.error_kind, count=0))
            msg = ev.message.removeprefix(f"{ev.error_kind}: ")
            if not es.first_message:
                es.first_message, es.first_t = msg, ev.t
            es.last_message = msg
    return sorted(kinds.values(), key=lambda k: (-k.count, k.kind))


def _segment(seg: dict[str, Any]) -> str:
    """One ``[[shape]]`` segment for the plan line: ``20/s for 2s`` or ``8 in flight for 2s``."""
    if seg.get("concurrency") is not None:
        return f"{seg.get('concurrency')} in flight for {seg.get('for')}s"
    return f"{seg.get('rate')}/s for {seg.get('for')}s"


def _end_fields(end: StageEnd | None) -> dict[str, Any]:
    """What the stage_end event says of the outcome (an incomplete run has none)."""
    if end is None:
        return {"complete": False, "state": "INCOMPLETE", "verdict": "INCOMPLETE", "caveats": []}
    return {
        "complete": True,
        "state": end.state,
        "verdict": end.verdict or end.state,
        "caveats": [str(c) for c in end.caveats],
        "error": end.error,
        "exit_code": end.exit_code,
        "reason": end.reason,
        "stop_finished": end.stop_finished,
        "stop_cancelled": end.stop_cancelled,
    }


def build_summary(run: Path | RunRecord, sections: Sequence[ReportSection]) -> Summary:
    """Rebuild the summary from what is on disk, with each section's part."""
    data = run if isinstance(run, RunRecord) else read_run(run)
    prof = data.profile
    tl = data.timeline
    start, end = data.first(StageStart), data.first(StageEnd)
    calls = int(tl.last("calls") or 0)
    errors, timeouts = int(tl.last("errors") or 0), int(tl.last("timeouts") or 0)
    duration = tl.last("t") or 0.0
    in_flight = 0 if end is not None else int(tl.last("in_flight") or 0)
    logged = count_failures(data.run_dir)
    sched = data.hist_lines[1] if len(data.hist_lines) > 1 else None
    summary = Summary(
        stage=str(prof.get("name", data.run_dir.name)),
        target=prof.get("target"),
        labels={str(k): str(v) for k, v in (prof.get("labels") or {}).items()},
        seed=prof.get("seed") if isinstance(prof.get("seed"), int) else None,
        run_dir=str(data.run_dir),
        started_at=(start.ts if start else None) or data.config.get("started_at"),
        ended_at=(end.ts if end else None) or (tl.stamps[-1] if tl.stamps else None),
        duration_s=duration,
        **_end_fields(end),
        planned_calls=prof.get("calls"),
        planned_duration=prof.get("duration"),
        concurrency=int(prof.get("concurrency", 1)),
        rate=prof.get("rate"),
        shape=[_segment(seg) for seg in prof.get("shape") or []],
        isolation=str(prof.get("isolation", "process")),
        calls=calls,
        started_calls=calls + in_flight,
        unaccounted_calls=in_flight,
        missed_arrivals=int(tl.last("missed_arrivals") or 0),
        failures_logged=logged,
        failures_left_out=max(0, errors + timeouts - logged),
        ok=calls - errors - timeouts,
        errors=errors,
        timeouts=timeouts,
        error_ratio=(errors + timeouts) / calls if calls else 0.0,
        rate_avg=calls / duration if duration > 0 else 0.0,
        errors_by_kind=_errors_by_kind(data),
        latency=_latency(data.hist_lines[0] if data.hist_lines else None),
        latency_scheduled=_latency(sched) if sched else None,
        phases={name: _hist_summary(h) for name, h in data.phases.items()},
        operator_actions=[f"{e.t:.1f}s {e.message}" for e in data.of_type(Operator)],
        hangs=len(data.of_type(Hang)),
        worker_crashes=len(data.of_type(WorkerCrash)),
        worker_restarts=len(data.of_type(WorkerRestart)),
        orphans=sum(e.count or 0 for e in data.of_type(OrphansKilled)),
        events=len(data.events),
    )
    for section in sections:
        summary.sections.update(section.build(data))
    return summary


def _accounting(s: Summary) -> str:
    """Planned, started and recorded calls of a run that did not finish."""
    planned = f"{s.planned_calls} planned, " if s.planned_calls else ""
    out = f"Calls: {planned}{s.started_calls} started, {s.calls} recorded"
    if s.unaccounted_calls:
        out += f"; {s.unaccounted_calls} in flight at the last flush, outcome unknown"
    return out + "."


def _failures_line(s: Summary) -> str:
    line = f"Every failed call: `{FAILURES_FILE}` ({s.failures_logged} lines"
    if s.failures_left_out:
        line += f"; {s.failures_left_out} left out at its size cap"
    return line + ")."


def _ms(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def render_markdown(s: Summary, sections: Sequence[ReportSection] = ()) -> str:
    """summary.md: for a person, what ran, the verdict, counts, errors, latency."""
    lines = [f"# Stage `{s.stage}`: {s.verdict or s.state}", ""]
    if not s.complete:
        lines += [
            "> The runner stopped before it finished: this summary holds every call recorded up to its last flush.",
            f"> {_accounting(s)}",
            "",
        ]
    lines += _md_run(s)
    if s.missed_arrivals:
        lines += [f"Arrivals: {s.missed_arrivals} of {s.calls + s.missed_arrivals} missed (due, never sent).", ""]
    if s.errors_by_kind:
        lines += ["## Errors by kind", "", "| kind | count | first message |", "|---|---:|---|"]
        for e in s.errors_by_kind:
            msg = e.first_message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{e.kind}` | {e.count} | {msg} |")
        lines += ["", _failures_line(s), ""]
    lines += _md_latency(s)
    if s.hangs or s.worker_crashes:
        lines += [
            f"Workers: {s.worker_crashes} crashed, {s.hangs} hung (stacks in `workers/`), "
            f"{s.worker_restarts} restarted.",
            "",
        ]
    for section in sections:
        if section.markdown is not None:
            lines += section.markdown(s)
    if s.operator_actions:
        lines += ["## Operator actions", ""] + [f"- {a}" for a in s.operator_actions] + [""]
    return "\n".join(lines)


def _md_run(s: Summary) -> list[str]:
    """summary.md's run facts (target, plan, times, exit code) and its table of calls."""
    plan = f"{s.planned_calls} calls" if s.planned_calls else format_duration(s.planned_duration or 0)
    model = s.load_model
    exit_code = "— (the runner did not finish)" if s.exit_code is None else str(s.exit_code)
    return [
        f"- Target: `{s.target}` ({s.isolation})",
        *([f"- Labels: {', '.join(f'{k}={v}' for k, v in s.labels.items())}"] if s.labels else []),
        f"- Plan: {plan}, {model}",
        f"- Ran: {s.started_at} → {s.ended_at} ({format_duration(s.duration_s)})",
        f"- Exit code: {exit_code}" + (f" ({s.reason})" if s.reason else ""),
        f"- Run directory: `{s.run_dir}`",
        "",
        "## Calls",
        "",
        "| calls | ok | errors | timeouts | error ratio | calls/s |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {s.calls} | {s.ok} | {s.errors} | {s.timeouts} | {s.error_ratio:.4%} | {s.rate_avg:,.1f} |",
        "",
    ]


def _md_latency(s: Summary) -> list[str]:
    """summary.md's latency table: from the actual start, the scheduled start and per phase."""
    lines = [
        "## Latency (ms)",
        "",
        "| measured from | count | p50 | p90 | p95 | p99 | p99.9 | max | mean |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [("actual start", s.latency)]
    if s.latency_scheduled:
        rows.append(("scheduled start", s.latency_scheduled))
    rows += [(f"phase `{name}`", lat) for name, lat in s.phases.items()]
    for label, lat in rows:
        lines.append(
            f"| {label} | {lat.count} | {_ms(lat.p50)} | {_ms(lat.p90)} | {_ms(lat.p95)} | "
            f"{_ms(lat.p99)} | {_ms(lat.p999)} | {_ms(lat.max)} | {_ms(lat.mean)} |"
        )
    lines.append("")
    return lines


def write_reports(run_dir: Path, sections: Sequence[ReportSection]) -> list[Path]:
    """Write summary.json and summary.md (and the sections' own files); returns their paths."""
    data = read_run(run_dir)
    summary = build_summary(data, sections)
    js = run_dir / "summary.json"
    js.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    md = run_dir / "summary.md"
    md.write_text(render_markdown(summary, sections), encoding="utf-8")
    paths = [js, md]
    for section in sections:
        if section.write is not None:
            paths.extend(section.write(summary, data))
    return paths


def summary_json(summary: Summary) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(summary.model_dump_json())
    return out
