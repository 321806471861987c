"""The ``tokens`` report section: token totals and rates of a model-server stage.

Built from the run directory alone: the cumulative series ``tokens_prompt`` and
``tokens_completion`` of timeline.csv (the HTTP target counts them from ``usage``, or
from content chunks when a stream carries no usage), the streamed calls counted each
way (``tokens_from_usage``, ``tokens_from_chunks``), and the ``tpot`` phase (per-request
decode speed = 1000 / TPOT ms). Nothing here when the stage counted no tokens.
"""

from __future__ import annotations

import math
from typing import Any

from soakwatch.core.reports import ReportSection
from soakwatch.core.rundir_reader import RunRecord
from soakwatch.core.summary import Summary

__all__ = ["SECTION", "build_tokens", "tokens_line"]


def _last(run: RunRecord, column: str) -> float | None:
    v = run.timeline.last(column)
    return None if v is None or math.isnan(v) else v


def build_tokens(run: RunRecord) -> dict[str, Any]:
    completion = _last(run, "tokens_completion")
    if completion is None:
        return {}
    prompt = _last(run, "tokens_prompt") or 0.0
    duration = _last(run, "t") or 0.0
    ok = (_last(run, "calls") or 0.0) - (_last(run, "errors") or 0.0) - (_last(run, "timeouts") or 0.0)
    usage, chunks = _last(run, "tokens_from_usage"), _last(run, "tokens_from_chunks")
    source = "usage"
    if chunks:
        source = "content chunks" if not usage else "usage, and content chunks where a stream had none"
    out: dict[str, Any] = {
        "prompt": int(prompt),
        "completion": int(completion),
        "completion_per_s": completion / duration if duration > 0 else 0.0,
        "total_per_s": (completion + prompt) / duration if duration > 0 else 0.0,
        "completion_per_call": completion / ok if ok > 0 else 0.0,
        "source": source,
    }
    tpot = run.phases.get("tpot")
    if tpot is not None and tpot.total:
        p50, p95 = tpot.percentiles([50, 95])
        out["request_per_s_p50"] = 1e6 / p50 if p50 else 0.0
        out["request_per_s_p5"] = 1e6 / p95 if p95 else 0.0
    return {"tokens": out}


def tokens_line(t: dict[str, Any]) -> str:
    """One line: totals, rates and where the counts came from."""
    line = (
        f"tokens  prompt {t['prompt']:,}  output {t['completion']:,}  output {t['completion_per_s']:,.1f}/s overall  "
        f"{t['completion_per_call']:,.1f} a call"
    )
    if "request_per_s_p50" in t:
        line += f"  per request {t['request_per_s_p50']:,.1f}/s (p50)"
    return line + f"  (counted from {t['source']})"


def _markdown(s: Summary) -> list[str]:
    t = s.sections.get("tokens")
    if not t:
        return []
    per_req = f"{t['request_per_s_p50']:,.1f} / {t['request_per_s_p5']:,.1f}" if "request_per_s_p50" in t else "—"
    return [
        "## Tokens",
        "",
        "| prompt | output | output/s | prompt+output/s | output a call | output/s a request (p50 / p5) |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {t['prompt']:,} | {t['completion']:,} | {t['completion_per_s']:,.1f} | {t['total_per_s']:,.1f} | "
        f"{t['completion_per_call']:,.1f} | {per_req} |",
        "",
        f"Output tokens counted from {t['source']}.",
        "",
    ]


SECTION = ReportSection("tokens", build_tokens, _markdown)
