"""Gate reports, rebuilt from the run directory alone: the summary's gates table, failures.md, junit.xml.

:data:`SECTION` is the gates' :class:`~soakwatch.core.reports.ReportSection`: the summary
section (from ``gate_rules``, ``gate``, ``gate_final``, ``gate_recovery`` and ``abort``
events), its Markdown and two report writers (junit.xml, failures.md). A run killed before its end still gets a
table: each gate's worst status seen in its transition events, marked incomplete.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from soakwatch.core.event_types import (
    Abort,
    AbortSuppressed,
    CallCheck,
    CallError,
    ChaosEnd,
    ChaosStart,
    CollectorError,
    CorruptRead,
    ErrorCounts,
    Event,
    GateFinal,
    GateRecovery,
    GateRules,
    GateTransition,
    Hang,
    Integrity,
    LogMatch,
    Operator,
    SizeWarning,
    SnapshotTaken,
    Truncate,
    WorkerCrash,
    WorkerRestart,
)
from soakwatch.core.format import fmt_value
from soakwatch.core.reports import ReportSection
from soakwatch.core.rundir_reader import RunRecord
from soakwatch.core.summary import Summary

__all__ = ["SECTION", "build_section", "render_failures", "render_junit", "render_section"]

#: seconds of timeline and events shown before and after a failure in failures.md
EVIDENCE_BEFORE_S = 10.0
EVIDENCE_AFTER_S = 5.0
EVIDENCE_ROWS = 30
EVIDENCE_EVENTS = 25
EVIDENCE_PER_KIND = 5
#: events that help explain a failure
RELATED: tuple[type[Event], ...] = (
    CallError,
    ErrorCounts,
    ChaosStart,
    ChaosEnd,
    Abort,
    AbortSuppressed,
    WorkerCrash,
    WorkerRestart,
    Hang,
    SnapshotTaken,
    SizeWarning,
    Truncate,
    Integrity,
    CorruptRead,
    CollectorError,
    Operator,
    CallCheck,
)
#: matching log lines shown before a failure (a node's last words may come well before the gate fails)
LOG_BEFORE_S = 60.0
LOG_LINES_PER_SOURCE = 10
RANK = {"pass": 0, "insufficient_data": 0, "exempt": 0, "warn": 1, "fail": 2}


def _row_of_transitions(rule: dict[str, Any], trans: list[GateTransition]) -> dict[str, Any]:
    """A gate without a final verdict (the run was killed): its worst status seen, or incomplete."""
    worst = max(trans, key=lambda e: RANK.get(e.status, 0), default=None)
    row = dict(rule)
    bad = worst is not None and RANK.get(worst.status, 0) > 0
    row["status"] = worst.status if worst is not None and bad else "incomplete"
    row["observed"] = worst.observed if worst is not None else None
    row["changed_at"] = worst.t if worst is not None else None
    row["detail"] = (worst.detail or "") if worst is not None else ""
    return row


def _gate_rows(data: RunRecord) -> tuple[list[dict[str, Any]], bool]:
    finals = {e.gate: e for e in data.of_type(GateFinal)}
    rules: list[dict[str, Any]] = []
    for ev in data.of_type(GateRules):
        rules = [r for r in ev.gates if isinstance(r, dict)]
    transitions: dict[str, list[GateTransition]] = {}
    for tr in data.of_type(GateTransition):
        transitions.setdefault(tr.gate, []).append(tr)
    names = [str(r.get("gate")) for r in rules] or list(finals)
    rows = []
    for name in names:
        final = finals.get(name)
        trans = transitions.get(name, [])
        if final is not None:
            row = final.data
        else:
            row = _row_of_transitions(next((r for r in rules if r.get("gate") == name), {"gate": name}), trans)
        row["transitions"] = [{"t": e.t, "from": e.previous, "to": e.status, "observed": e.observed} for e in trans]
        rows.append(row)
    return rows, len(finals) == len(names)


def build_section(data: RunRecord) -> dict[str, Any]:
    """The ``gates`` section of the summary: table rows, exemptions, recoveries and the aborting gate."""
    rows, complete = _gate_rows(data)
    if not rows:
        return {}
    abort = next((e for e in data.of_type(Abort) if e.gate), None)
    recoveries = [
        {
            "action": e.action,
            "chaos_start": e.chaos_start,
            "chaos_end": e.chaos_end,
            "recovered": e.recovered,
            "seconds": e.seconds,
            "gate": e.data.get("gate"),
        }
        for e in data.of_type(GateRecovery)
    ]
    exempted = [
        {"gate": r.get("gate"), "start": w[0], "end": w[1], "action": w[2]}
        for r in rows
        for w in r.get("exempted") or []
        if isinstance(w, list) and len(w) == 3
    ]
    failed = [r["gate"] for r in rows if _is_failure(r)]
    return {
        "gates": {
            "complete": complete,
            "rows": rows,
            "failed": failed,
            "aborted_by": abort.gate if abort else None,
            "abort_reason": abort.reason if abort else None,
            "abort_t": abort.t if abort else None,
            "exempted": exempted,
            "recoveries": recoveries,
        }
    }


def _is_failure(row: dict[str, Any]) -> bool:
    status = row.get("status")
    if status == "fail":
        return True
    # insufficient_data = "fail" fails an unjudged fail gate; a warn gate is never raised to a failure
    return status == "insufficient_data" and row.get("insufficient_policy") == "fail" and row.get("severity") != "warn"


def _not_judged(row: dict[str, Any]) -> str:
    """``not judged: no samples of …`` for an unjudged gate, else ""."""
    if row.get("status") != "insufficient_data":
        return ""
    return "not judged" + (f": {row['why']}" if row.get("why") else "")


def _t(v: Any) -> str:
    return f"{float(v):.1f}s" if isinstance(v, int | float) else "—"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_section(s: Summary) -> list[str]:
    """The Markdown ``## Gates`` section."""
    sec = s.sections.get("gates")
    if not sec:
        return []
    lines = ["## Gates", ""]
    if not sec.get("complete"):
        lines += ["> The run ended before the gates' final verdicts: statuses are the worst seen.", ""]
    lines += ["| gate | condition | observed | status | changed at |", "|---|---|---:|---|---:|"]
    for r in sec["rows"]:
        status = str(r.get("status", "")).upper() if _is_failure(r) else str(r.get("status", ""))
        shown = str(r.get("shown") or fmt_value(r.get("observed")))
        if r.get("detail") and r.get("status") in ("warn", "fail"):
            shown += f" ({r['detail']})"
        if _not_judged(r):
            shown = _not_judged(r)
        flags = " (abort)" if r.get("abort") else ""
        lines.append(
            f"| `{_cell(r.get('gate'))}`{flags} | `{_cell(r.get('condition', ''))}` | {_cell(shown)} | "
            f"{status} | {_t(r.get('changed_at'))} |"
        )
    lines.append("")
    if sec.get("aborted_by"):
        lines += [f"Stopped by gate `{sec['aborted_by']}` at {_t(sec.get('abort_t'))}: {sec.get('abort_reason')}", ""]
    if sec.get("exempted"):
        lines += ["Exempted during chaos:", ""]
        for e in sec["exempted"]:
            lines.append(f"- `{e['gate']}`: {_t(e['start'])} → {_t(e['end'])} ({e['action']})")
        lines.append("")
    if sec.get("recoveries"):
        lines += ["Time to recover after chaos (every gate back to pass; each gate the chaos put in breach):", ""]
        for r in (r for r in sec["recoveries"] if not r.get("gate")):
            lines.append(f"- {r.get('action')} (ended {_t(r.get('chaos_end'))}): {_took(r)}")
            for g in sec["recoveries"]:
                if g.get("gate") and (g.get("action"), g.get("chaos_start")) == (r.get("action"), r.get("chaos_start")):
                    lines.append(f"  - gate `{g['gate']}`: {_took(g)}")
        lines.append("")
    return lines


def _took(r: dict[str, Any]) -> str:
    return f"{r['seconds']:.1f}s" if r.get("recovered") else "not recovered by the end"


def _evidence_rows(data: RunRecord, row: dict[str, Any], at: float) -> list[str]:
    name = str(row.get("gate"))
    metric = str(row.get("metric", ""))
    tl = data.timeline
    if not tl.rows:
        return ["(no timeline rows)"]
    cols = ["t", "calls", "errors", "timeouts"]
    for c in (metric, f"gate_value[{name}]", f"gate_margin[{name}]"):
        if c in tl.columns and c not in cols:
            cols.append(c)
    near = [i for i, t in enumerate(tl.times) if at - EVIDENCE_BEFORE_S <= t <= at + EVIDENCE_AFTER_S]
    if len(near) > EVIDENCE_ROWS:
        step = len(near) / EVIDENCE_ROWS
        near = [near[int(i * step)] for i in range(EVIDENCE_ROWS)]
    out = ["| " + " | ".join(cols) + " |", "|" + "---:|" * len(cols)]
    for i in near:
        out.append("| " + " | ".join(_cell(tl.text(c, i)) for c in cols) + " |")
    return out


def _f(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _related(data: RunRecord, at: float) -> list[Event]:
    """Events around ``at`` that help explain it, a few of each kind so one kind cannot crowd out the rest."""
    out: list[Event] = []
    per_kind: dict[str, int] = {}
    for e in data.events:
        if not isinstance(e, RELATED) or not at - EVIDENCE_BEFORE_S <= e.t <= at + EVIDENCE_AFTER_S:
            continue
        per_kind[e.kind] = per_kind.get(e.kind, 0) + 1
        if per_kind[e.kind] <= EVIDENCE_PER_KIND:
            out.append(e)
    return out[:EVIDENCE_EVENTS]


def _log_lines(data: RunRecord, at: float) -> list[str]:
    """Matching log lines (log_match events) from each source before and around ``at``."""
    by_source: dict[str, list[LogMatch]] = {}
    for e in data.of_type(LogMatch):
        if at - LOG_BEFORE_S <= e.t <= at + EVIDENCE_AFTER_S:
            by_source.setdefault(str(e.source), []).append(e)
    if not by_source:
        return []
    out = [f"### Matching log lines ({LOG_BEFORE_S:g}s before to {EVIDENCE_AFTER_S:g}s after)", ""]
    for source, evs in by_source.items():
        out.append(f"- `{_cell(source)}`:")
        for e in evs[-LOG_LINES_PER_SOURCE:]:
            more = f" (+{e.suppressed} earlier lines not shown)" if e.suppressed else ""
            out.append(f"  - {_t(e.t)} `{e.file}` [{e.level}] {_cell(e.line)}{more}")
    return [*out, ""]


def render_failures(s: Summary, data: RunRecord) -> str | None:
    """failures.md: each failed gate with its evidence, or None when nothing failed."""
    sec = s.sections.get("gates") or {}
    failed = [r for r in sec.get("rows", []) if _is_failure(r)]
    if not failed:
        return None
    lines = [f"# Failures: stage `{s.stage}` ({s.state})", ""]
    if sec.get("aborted_by"):
        lines += [f"The stage was stopped by gate `{sec['aborted_by']}` at {_t(sec.get('abort_t'))}.", ""]
    for r in failed:
        name = r.get("gate")
        at = _f(r.get("changed_at"))
        lines += [
            f"## Gate `{name}`: {r.get('status')}",
            "",
            f"- Condition: `{r.get('condition')}` ({r.get('severity')}{', abort' if r.get('abort') else ''})",
            f"- Observed: {fmt_value(r.get('observed'))}" + (f" — {r['detail']}" if r.get("detail") else ""),
            f"- Failed at: {_t(r.get('changed_at'))}; samples {r.get('samples', '—')} "
            f"(min {r.get('min_samples', '—')}); evaluations in breach: {r.get('breaches', '—')}",
            "",
        ]
        if at == at:  # not NaN
            lines += [f"### Series around {_t(at)}", "", *_evidence_rows(data, r, at), ""]
            lines += _log_lines(data, at)
            related = _related(data, at)
            if related:
                lines += ["### Related events", ""]
                lines += [f"- {_t(e.t)} `{e.kind}` {_cell(e.message)}" for e in related]
                lines.append("")
        if r.get("transitions"):
            lines += ["### Transitions", ""]
            for tr in r["transitions"]:
                lines.append(f"- {_t(tr['t'])}: {tr['from']} → {tr['to']} (observed {fmt_value(tr['observed'])})")
            lines.append("")
    return "\n".join(lines)


def render_junit(s: Summary) -> str:
    """junit.xml: one testcase per gate (or one for the stage when it has no gates)."""
    sec = s.sections.get("gates") or {}
    rows = sec.get("rows", [])
    suite = ET.Element(
        "testsuite", name=f"soakwatch.{s.stage}", time=f"{s.duration_s:.3f}", timestamp=s.started_at or ""
    )
    failures = skipped = 0
    classname = f"soakwatch.gates.{s.stage}"
    for r in rows:
        case = ET.SubElement(suite, "testcase", classname=classname, name=str(r.get("gate")), time="0")
        observed = fmt_value(r.get("observed")) + (f" ({r['detail']})" if r.get("detail") else "")
        status = r.get("status")
        if _is_failure(r):
            failures += 1
            msg = f"{r.get('condition')}: observed {observed}"
            fail = ET.SubElement(case, "failure", message=msg, type=str(status))
            fail.text = f"gate {r.get('gate')} {status} at {_t(r.get('changed_at'))}: {msg}"
        elif status in ("insufficient_data", "incomplete"):
            skipped += 1
            why = _not_judged(r) or f"{status}: the run ended before the gate's verdict"
            ET.SubElement(case, "skipped", message=f"{why} ({r.get('condition')})")
        out = ET.SubElement(case, "system-out")
        out.text = f"{r.get('condition')} — {status}, observed {observed}"
    if not rows:
        case = ET.SubElement(suite, "testcase", classname=f"soakwatch.{s.stage}", name="stage", time="0")
        if s.exit_code not in (0, None):
            failures += 1
            ET.SubElement(case, "failure", message=f"stage {s.state} (exit {s.exit_code})", type=s.state)
    suite.set("tests", str(max(len(rows), 1)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _write(s: Summary, data: RunRecord) -> list[Path]:
    paths = []
    junit = data.run_dir / "junit.xml"
    junit.write_text(render_junit(s), encoding="utf-8")
    paths.append(junit)
    failures = render_failures(s, data)
    target = data.run_dir / "failures.md"
    if failures is not None:
        target.write_text(failures, encoding="utf-8")
        paths.append(target)
    return paths


#: the gates' part of the report (the caller composing a stage passes it to build_summary / write_reports)
SECTION = ReportSection("gates", build_section, render_section, _write)
