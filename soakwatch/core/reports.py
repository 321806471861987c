"""Reports: build the :class:`Summary` from the run directory, render and write it.

``build_summary`` reads only what is on disk, so it serves both the end of a run
and ``soakwatch report RUN_DIR`` after a crash. Renderers (Markdown here; JUnit and
failures.md by the gates) turn the model into files; the headless view prints it.
"""

from __future__ import annotations

import csv
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soakwatch.config.units import format_duration
from soakwatch.core.callvalues import PHASE_FILE, read_phases
from soakwatch.core.events import read_events
from soakwatch.core.histogram import LatencyHistogram
from soakwatch.core.rundir import read_run_config
from soakwatch.core.summary import ErrorSummary, LatencySummary, Summary

__all__ = ["RunData", "build_summary", "load_run", "render_markdown", "write_reports"]


class RunData:
    """Everything a run directory holds, read once."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.config = read_run_config(run_dir)
        self.events = read_events(run_dir / "events.jsonl")
        self.timeline = _read_timeline(run_dir / "timeline.csv")
        self.hist_lines = _read_hist(run_dir / "latency.hdr")
        try:
            self.phases = read_phases((run_dir / PHASE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.phases = {}

    @property
    def profile(self) -> dict[str, Any]:
        p = self.config.get("profile", {})
        return p if isinstance(p, dict) else {}

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("kind") in kinds]


def _read_timeline(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8", errors="backslashreplace") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, csv.Error):  # gone, or mangled beyond reading: the summary says what it can
        return []
    # a row torn by a kill has fewer fields than the header
    return [r for r in rows if None not in r.values() and None not in r]


def _read_hist(path: Path) -> list[str]:
    try:
        return [
            line.strip() for line in path.read_text(encoding="ascii", errors="replace").splitlines() if line.strip()
        ]
    except OSError:
        return []


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


def _int(row: dict[str, str], key: str) -> int:
    try:
        return int(float(row.get(key) or 0))
    except ValueError:
        return 0


#: builders of extra summary sections (collectors, gates): RunData -> {name: section}
SECTION_BUILDERS: list[Callable[[RunData], dict[str, Any]]] = []


#: modules that register section builders, Markdown sections and report writers on import
REPORT_MODULES: tuple[str, ...] = ("soakwatch.gates.report", "soakwatch.collectors.report", "soakwatch.nodes.report")


def _section_builders() -> list[Callable[[RunData], dict[str, Any]]]:
    for name in REPORT_MODULES:
        importlib.import_module(name)
    return list(SECTION_BUILDERS)


def build_summary(run_dir: Path) -> Summary:
    """Rebuild the summary from what is on disk."""
    data = RunData(run_dir)
    prof = data.profile
    last = data.timeline[-1] if data.timeline else {}
    start = next(iter(data.of_kind("stage_start")), None)
    end = next(iter(data.of_kind("stage_end")), None)
    kinds: dict[str, ErrorSummary] = {}
    for ev in data.events:
        if ev.get("kind") == "errors":
            for kind, n in (ev.get("counts") or {}).items():
                es = kinds.setdefault(kind, ErrorSummary(kind=kind, count=0))
                es.count += int(n)
        elif ev.get("kind") == "error":
            kind = str(ev.get("error_kind", ""))
            es = kinds.setdefault(kind, ErrorSummary(kind=kind, count=0))
            msg = str(ev.get("msg", "")).removeprefix(f"{kind}: ")
            if not es.first_message:
                es.first_message, es.first_t = msg, float(ev.get("t", 0.0))
            es.last_message = msg
    calls = _int(last, "calls")
    errors, timeouts = _int(last, "errors"), _int(last, "timeouts")
    duration = float(last.get("t") or 0.0)
    sched = data.hist_lines[1] if len(data.hist_lines) > 1 else None
    summary = Summary(
        stage=str(prof.get("name", run_dir.name)),
        target=prof.get("target"),
        labels={str(k): str(v) for k, v in (prof.get("labels") or {}).items()},
        seed=prof.get("seed") if isinstance(prof.get("seed"), int) else None,
        run_dir=str(run_dir),
        started_at=(start or {}).get("ts") or data.config.get("started_at"),
        ended_at=(end or {}).get("ts") or last.get("ts"),
        duration_s=duration,
        complete=end is not None,
        state=str((end or {}).get("state", "INCOMPLETE")),
        verdict=str((end or {}).get("verdict") or (end or {}).get("state", "INCOMPLETE")),
        caveats=[str(c) for c in (end or {}).get("caveats") or []],
        error=(end or {}).get("error"),
        exit_code=(end or {}).get("exit_code"),
        reason=(end or {}).get("reason"),
        planned_calls=prof.get("calls"),
        planned_duration=prof.get("duration"),
        concurrency=int(prof.get("concurrency", 1)),
        rate=prof.get("rate"),
        isolation=str(prof.get("isolation", "process")),
        calls=calls,
        ok=calls - errors - timeouts,
        errors=errors,
        timeouts=timeouts,
        error_ratio=(errors + timeouts) / calls if calls else 0.0,
        rate_avg=calls / duration if duration > 0 else 0.0,
        errors_by_kind=sorted(kinds.values(), key=lambda k: (-k.count, k.kind)),
        latency=_latency(data.hist_lines[0] if data.hist_lines else None),
        latency_scheduled=_latency(sched) if sched else None,
        phases={name: _hist_summary(h) for name, h in data.phases.items()},
        operator_actions=[f"{e.get('t', 0):.1f}s {e.get('msg', '')}" for e in data.of_kind("operator")],
        hangs=len(data.of_kind("hang")),
        worker_crashes=len(data.of_kind("worker_crash")),
        worker_restarts=len(data.of_kind("worker_restart")),
        events=len(data.events),
    )
    for builder in _section_builders():
        summary.sections.update(builder(data))
    return summary


def _ms(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def render_markdown(s: Summary) -> str:
    """summary.md: for a person, what ran, the verdict, counts, errors, latency."""
    lines = [f"# Stage `{s.stage}`: {s.verdict or s.state}", ""]
    if not s.complete:
        lines += [
            "> The runner stopped before it finished: this summary holds every call recorded up to its last flush.",
            "",
        ]
    plan = f"{s.planned_calls} calls" if s.planned_calls else format_duration(s.planned_duration or 0)
    model = f"{s.rate:g} calls/s (open model)" if s.rate else f"concurrency {s.concurrency}"
    lines += [
        f"- Target: `{s.target}` ({s.isolation})",
        *([f"- Labels: {', '.join(f'{k}={v}' for k, v in s.labels.items())}"] if s.labels else []),
        f"- Plan: {plan}, {model}",
        f"- Ran: {s.started_at} → {s.ended_at} ({format_duration(s.duration_s)})",
        f"- Exit code: {s.exit_code if s.exit_code is not None else '—'}" + (f" ({s.reason})" if s.reason else ""),
        f"- Run directory: `{s.run_dir}`",
        "",
        "## Calls",
        "",
        "| calls | ok | errors | timeouts | error ratio | calls/s |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {s.calls} | {s.ok} | {s.errors} | {s.timeouts} | {s.error_ratio:.4%} | {s.rate_avg:,.1f} |",
        "",
    ]
    if s.errors_by_kind:
        lines += ["## Errors by kind", "", "| kind | count | first message |", "|---|---:|---|"]
        for e in s.errors_by_kind:
            msg = e.first_message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{e.kind}` | {e.count} | {msg} |")
        lines.append("")
    lines += [
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
    if s.hangs or s.worker_crashes:
        lines += [
            f"Workers: {s.worker_crashes} crashed, {s.hangs} hung (stacks in `workers/`), "
            f"{s.worker_restarts} restarted.",
            "",
        ]
    for render in MARKDOWN_SECTIONS:
        lines += render(s)
    if s.operator_actions:
        lines += ["## Operator actions", ""] + [f"- {a}" for a in s.operator_actions] + [""]
    return "\n".join(lines)


#: renderers of extra Markdown sections: Summary -> lines
MARKDOWN_SECTIONS: list[Callable[[Summary], list[str]]] = []

#: writers of extra report files (junit.xml, failures.md): (Summary, RunData) -> written paths
REPORT_WRITERS: list[Callable[[Summary, RunData], list[Path]]] = []


def load_run(run_dir: Path) -> RunData:
    return RunData(run_dir)


def write_reports(run_dir: Path) -> list[Path]:
    """Write summary.json and summary.md (and the extra reports); returns their paths."""
    summary = build_summary(run_dir)
    js = run_dir / "summary.json"
    js.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    md = run_dir / "summary.md"
    md.write_text(render_markdown(summary), encoding="utf-8")
    paths = [js, md]
    data: RunData | None = None
    for writer in REPORT_WRITERS:
        data = data or RunData(run_dir)
        paths.extend(writer(summary, data))
    return paths


def summary_json(summary: Summary) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(summary.model_dump_json())
    return out
