"""The report's tables as HTML, from the summary and run_config.json (everything escaped).

Known sections get a table made for them (verdict, calls, gates with their failures.md
evidence, errors by kind, snapshots, nodes, run record); any other section a collector or
plugin adds to the summary is shown generically (a list of records as a table, a mapping as
key/value rows), so it is never missing from the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from soakwatch.config.units import format_duration
from soakwatch.core.summary import LatencySummary, Summary

__all__ = ["cell", "render_tables", "table", "verdict_block"]

#: sections with a table of their own below
KNOWN_SECTIONS = ("gates", "snapshots", "nodes")
#: rows of a generic list shown before "… N more"
MAX_ROWS = 200
#: run_config.json keys shown in the run record (the profile is shown whole, folded)
RECORD_KEYS = ("started_at", "host", "packages", "argv", "resolved")


def cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, list) and all(not isinstance(x, dict | list) for x in v):
        return "<br>".join(cell(x) for x in v) if v else "—"
    if isinstance(v, dict) and all(not isinstance(x, dict | list) for x in v.values()):
        return "<br>".join(f"{escape(str(k))}: {cell(x)}" for k, x in v.items()) if v else "—"
    if isinstance(v, dict | list):
        return escape(json.dumps(v, ensure_ascii=False))
    return escape(str(v))


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _h(title: str) -> str:
    return f"<h2>{escape(title)}</h2>"


def verdict_block(s: Summary) -> str:
    """The verdict line, as the summary says it (caveats included), and what ran."""
    state = (s.state or "INCOMPLETE").lower()
    lines = [f'<div class="verdict state-{escape(state)}" id="verdict">{escape(s.verdict or s.state)}</div>']
    if s.error:
        lines.append(f'<p class="error">{escape(s.error)}</p>')
    if s.caveats:
        lines.append("<ul class='caveats'>" + "".join(f"<li>{escape(c)}</li>" for c in s.caveats) + "</ul>")
    if not s.complete:
        lines.append(
            "<p class='warn'>The runner stopped before it finished: this report holds everything recorded "
            "up to its last flush.</p>"
        )
    plan = f"{s.planned_calls} calls" if s.planned_calls else format_duration(s.planned_duration or 0)
    model = s.load_model
    lines.append(
        f"<p class='meta'>Target <code>{escape(str(s.target))}</code> ({escape(s.isolation)}) · plan {escape(plan)}, "
        f"{escape(model)} · ran {escape(str(s.started_at))} → {escape(str(s.ended_at))} "
        f"({escape(format_duration(s.duration_s))}) · exit code {cell(s.exit_code)}"
        + (f" ({escape(s.reason)})" if s.reason else "")
        + "</p>"
    )
    return "\n".join(lines)


def _latency_rows(s: Summary) -> list[list[Any]]:
    rows: list[tuple[str, LatencySummary]] = [("actual start", s.latency)]
    if s.latency_scheduled:
        rows.append(("scheduled start", s.latency_scheduled))
    rows += [(f"phase {name}", ph) for name, ph in s.phases.items()]  # ttft, itl, tpot, endpoint:NAME, ...
    return [[label, x.count, x.p50, x.p90, x.p95, x.p99, x.p999, x.max, x.mean] for label, x in rows]


def _calls(s: Summary) -> str:
    calls = table(
        ["calls", "ok", "errors", "timeouts", "error ratio", "calls/s"],
        [[s.calls, s.ok, s.errors, s.timeouts, f"{s.error_ratio:.4%}", s.rate_avg]],
    )
    lat = table(["latency (ms) from", "count", "p50", "p90", "p95", "p99", "p99.9", "max", "mean"], _latency_rows(s))
    return _h("Calls") + calls + lat


def _errors(s: Summary) -> str:
    if not s.errors_by_kind:
        return ""
    rows = [[e.kind, e.count, e.first_t, e.first_message, e.last_message] for e in s.errors_by_kind]
    return _h("Errors by kind") + table(["kind", "count", "first at (s)", "first message", "last message"], rows)


def _gates(s: Summary, failures_md: str | None) -> str:
    sec = s.sections.get("gates") or {}
    rows = sec.get("rows") or []
    if not rows:
        return ""
    keys = ["gate", "severity", "condition", "status", "observed", "detail", "samples", "changed_at"]
    out = _h("Gates") + table(keys, ([r.get(k) for k in keys] for r in rows), cls="gates")
    if failures_md:
        out += (
            "<details open><summary>Failed gates: evidence (failures.md)</summary>"
            f"<pre class='failures'>{escape(failures_md)}</pre></details>"
        )
    return out


def _snapshots(s: Summary) -> str:
    sec = s.sections.get("snapshots") or {}
    rows = sec.get("rows") or []
    if not rows:
        return ""
    files = sorted({f for r in rows for f in (r.get("files") or {})})
    header = ["label", "calls", "t (s)"] + [f"{f} lines (Δ)" for f in files]
    body = []
    for r in rows[:MAX_ROWS]:
        fs = r.get("files") or {}
        body.append(
            [r.get("label"), r.get("calls"), r.get("t")]
            + [
                f"{fs[f].get('lines')} ({fs[f].get('delta', 0):+})" + (" truncated" if fs[f].get("truncated") else "")
                if f in fs
                else None
                for f in files
            ]
        )
    more = f"<p>… {len(rows) - MAX_ROWS} more in summary.json</p>" if len(rows) > MAX_ROWS else ""
    return _h("Snapshots") + table(header, body) + more


def _generic(name: str, sec: Any) -> str:
    if isinstance(sec, list) and sec and all(isinstance(r, dict) for r in sec):
        keys = list(dict.fromkeys(k for r in sec for k in r))
        return _h(name.capitalize()) + table(keys, ([r.get(k) for k in keys] for r in sec[:MAX_ROWS]))
    if isinstance(sec, dict) and sec and all(isinstance(v, dict) for v in sec.values()):  # {id: record}
        keys = list(dict.fromkeys(k for r in sec.values() for k in r))
        rows = ([name, *(r.get(k) for k in keys)] for name, r in list(sec.items())[:MAX_ROWS])
        return _h(name.capitalize()) + table(["", *keys], rows)
    if isinstance(sec, dict) and sec:
        parts = []
        simple = [[k, v] for k, v in sec.items() if not (isinstance(v, list) and v and isinstance(v[0], dict))]
        if simple:
            parts.append(table(["field", "value"], simple))
        for k, v in sec.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                keys = list(dict.fromkeys(kk for r in v for kk in r))
                parts.append(f"<h3>{escape(k)}</h3>" + table(keys, ([r.get(kk) for kk in keys] for r in v[:MAX_ROWS])))
        return _h(name.capitalize()) + "".join(parts)
    return ""


def _record(config: dict[str, Any]) -> str:
    rows = [[k, config[k]] for k in RECORD_KEYS if k in config]
    rows += [[k, v] for k, v in config.items() if k not in RECORD_KEYS and k not in ("profile", "schema_version")]
    profile = json.dumps(config.get("profile", {}), indent=2, ensure_ascii=False)
    return (
        _h("Run record")
        + table(["field", "value"], rows, cls="record")
        + f"<details><summary>Profile (as resolved)</summary><pre>{escape(profile)}</pre></details>"
    )


def render_tables(s: Summary, config: dict[str, Any], failures_md: str | None) -> str:
    """Every table of the report, in reading order."""
    parts = [_calls(s), _gates(s, failures_md), _errors(s), _snapshots(s)]
    if "nodes" in s.sections:
        parts.append(_generic("nodes", s.sections["nodes"]))
    for name, sec in s.sections.items():
        if name not in KNOWN_SECTIONS:
            parts.append(_generic(name, sec))
    if s.operator_actions:
        parts.append(
            _h("Operator actions") + "<ul>" + "".join(f"<li>{escape(a)}</li>" for a in s.operator_actions) + "</ul>"
        )
    parts.append(_record(config))
    return "\n".join(p for p in parts if p)
