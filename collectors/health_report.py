"""The summary's collector health: each source ok, or failing since t with its last error.

Rebuilt from the run directory alone: the ``collector_health`` event each collector
emits at the end, or, for a run killed before it, the last ``collector_error`` /
``collector_recovered`` event of each source.
"""

from __future__ import annotations

from typing import Any

from soakwatch.core.reports import ReportSection
from soakwatch.core.rundir_reader import RunRecord
from soakwatch.core.summary import Summary

__all__ = ["SECTION", "build_section", "render_section"]


def _of_kind(data: RunRecord, *kinds: str) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "t": e.t, **e.data} for e in data.events if e.kind in kinds]


def _from_changes(data: RunRecord) -> list[dict[str, Any]]:
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for e in _of_kind(data, "collector_error", "collector_recovered"):
        key = (str(e.get("collector")), str(e.get("source")))
        row = last.setdefault(key, {"collector": key[0], "source": key[1], "samples": None, "failures": 0})
        if e.get("kind") == "collector_error":
            row.update(status="failing", since=e.get("since", e.get("t")), last_error=e.get("reason", ""))
            row["failures"] = max(int(row["failures"]), int(e.get("count") or 1))
        else:
            row.update(status="ok", since=None)
    return list(last.values())


def build_section(data: RunRecord) -> dict[str, Any]:
    """The ``collectors`` section: every source's health, and the ones that failed the user."""
    finals = _of_kind(data, "collector_health")
    rows = [dict(s) for e in finals for s in e.get("sources") or [] if isinstance(s, dict)]
    complete = bool(finals)
    if not rows:
        rows = _from_changes(data)
    if not rows:
        return {}
    failing = [
        f"{r['collector']} {r['source']}"
        for r in rows
        if r.get("status") == "failing" or (r.get("samples") == 0 and r.get("failures"))
    ]
    return {"collectors": {"complete": complete, "sources": rows, "failing": failing}}


def render_section(s: Summary) -> list[str]:
    """The Markdown ``## Collectors`` section (only when a source ever failed)."""
    sec = s.sections.get("collectors")
    if not sec or not any(r.get("failures") for r in sec["sources"]):
        return []
    lines = ["## Collectors", "", "| collector | source | status | samples | failures | last error |"]
    lines.append("|---|---|---|---:|---:|---|")
    for r in sec["sources"]:
        status = str(r.get("status", ""))
        if status == "failing" and r.get("since") is not None:
            status = f"FAILING since {float(r['since']):.1f}s"
        samples = "—" if r.get("samples") is None else r["samples"]
        error = str(r.get("last_error") or "").replace("|", "\\|")
        lines.append(
            f"| {r.get('collector')} | {r.get('source')} | {status} | {samples} | {r.get('failures', 0)} | {error} |"
        )
    lines.append("")
    return lines


SECTION = ReportSection("collector_health", build_section, render_section)
