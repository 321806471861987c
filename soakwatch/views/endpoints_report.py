"""The ``endpoints`` report section: one row per endpoint of a request mix (``[[http.requests]]``).

Built from the run directory alone: the cumulative series ``requests[NAME]`` and
``request_errors[NAME]`` of timeline.csv and the phase ``endpoint:NAME`` of phases.hdr
(every call's latency, by endpoint). Nothing here for a stage without a mix.
"""

from __future__ import annotations

import math
from typing import Any

from soakwatch.core.format import fmt_ms
from soakwatch.core.reports import ReportSection
from soakwatch.core.rundir_reader import RunRecord
from soakwatch.core.summary import Summary

__all__ = ["SECTION", "build_endpoints", "endpoint_lines"]

ENDPOINT_PHASE = "endpoint:"


def _last(run: RunRecord, column: str) -> float:
    v = run.timeline.last(column)
    return 0.0 if v is None or math.isnan(v) else v


def build_endpoints(run: RunRecord) -> dict[str, Any]:
    names = run.timeline.subjects("requests")
    if not names:
        return {}
    total = sum(_last(run, f"requests[{n}]") for n in names)
    rows = []
    for name in names:
        calls = _last(run, f"requests[{name}]")
        errors = _last(run, f"request_errors[{name}]")
        row: dict[str, Any] = {
            "endpoint": name,
            "calls": int(calls),
            "share": calls / total if total else 0.0,
            "errors": int(errors),
            "error_ratio": errors / calls if calls else 0.0,
        }
        h = run.phases.get(ENDPOINT_PHASE + name)
        if h is not None and h.total:
            p50, p95, p99 = (v / 1000.0 for v in h.percentiles([50, 95, 99]))
            row |= {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99}
        rows.append(row)
    return {"endpoints": rows}


def endpoint_lines(rows: list[dict[str, Any]]) -> list[str]:
    """One line per endpoint, for the headless summary."""
    return [
        f"endpoint {r['endpoint']}  calls {r['calls']} ({r['share']:.1%})  errors {r['errors']}"
        f"  p50 {fmt_ms(r.get('p50_ms', 0.0))}  p95 {fmt_ms(r.get('p95_ms', 0.0))}"
        for r in rows
    ]


def _markdown(s: Summary) -> list[str]:
    rows = s.sections.get("endpoints")
    if not rows:
        return []
    out = [
        "## Endpoints",
        "",
        "| endpoint | calls | share | errors | error ratio | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lat = " | ".join(f"{r[k]:.1f}" if k in r else "—" for k in ("p50_ms", "p95_ms", "p99_ms"))
        out.append(
            f"| `{r['endpoint']}` | {r['calls']} | {r['share']:.1%} | {r['errors']} | {r['error_ratio']:.2%} | {lat} |"
        )
    return [*out, ""]


SECTION = ReportSection("endpoints", build_endpoints, _markdown)
