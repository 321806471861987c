"""The collectors' section of summary.md: the Markdown renderer of the sections build_sections made."""

from __future__ import annotations

from typing import Any

from soakwatch.collectors._warmup import BASELINE_SAMPLES
from soakwatch.collectors.trend import MIN_POINTS
from soakwatch.core.summary import Summary

__all__ = ["render_sections"]

#: snapshot rows per file in summary.md
MD_SNAPSHOT_ROWS = 40


# -------------------------------------------------------------------- Markdown
def _n(v: Any, fmt: str = "{:.1f}") -> str:
    return "—" if v is None else fmt.format(v)


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    from soakwatch.config.units import format_duration

    return format_duration(seconds)


def render_sections(s: Summary) -> list[str]:
    """summary.md sections for files, snapshots, actions, integrity, processes and sources."""
    sec = s.sections
    lines: list[str] = []
    files = sec.get("files") or []
    if files:
        lines += [
            "## Watched files",
            "",
            "| file | size KB | max KB | lines | corrupt reads | size warnings | truncations |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for f in files:
            lines.append(
                f"| `{f['file']}` | {_n(f['size_kb'])} | {_n(f['max_kb'])} | {_n(f['lines'], '{}')} | "
                f"{f['corrupt_reads']} | {f['size_warnings']} | {f['truncations']} |"
            )
        lines.append("")
    snaps = sec.get("snapshots")
    if snaps and snaps["rows"]:
        lines += _render_snapshots(snaps)
    actions = sec.get("actions")
    if actions:
        counts = ", ".join(f"{k} {v}" for k, v in actions["counts"].items() if v)
        lines += ["## File actions", "", f"Counts: {counts}.", ""]
        lines += [f"- {a}" for a in actions["list"]]
        if actions["omitted"]:
            lines.append(f"- … {actions['omitted']} more in events.jsonl")
        lines.append("")
    integ = sec.get("integrity")
    if integ:
        pats = ", ".join(f"`{p}`" for p in integ["patterns"])
        lines += ["## Integrity", ""]
        if integ["unchanged"]:
            lines.append(f"{pats}: {integ['baseline_files']} files, **unchanged** (sha256).")
        else:
            n = len(integ["changed_files"])
            lines.append(f"{pats}: {integ['baseline_files']} files at baseline, **{n} changed**:")
            lines.append("")
            lines += [f"- `{c['file']}` {c['change']} (seen at {c['label']}, {c['t']:.1f}s)" for c in integ["changes"]]
        lines.append("")
    procs = sec.get("processes")
    if procs:
        lines += _render_processes(procs)
    for src in sec.get("sources") or []:
        lines += [f"## {src['kind'].title()} `{src['name']}`", "", f"From `{src['where']}`: {src['samples']} samples"]
        if src["reports_read"] is not None:
            lines[-1] += f", {src['reports_read']} files read, {src['corrupt_reads']} unreadable"
        if src["failure_events"]:
            lines[-1] += f"; failures reported {src['failure_events']} times, last: {src['last_failure']}"
        lines += ["", "| field | first | last | min | max |", "|---|---:|---:|---:|---:|"]
        for field, f in src["fields"].items():
            lines.append(f"| `{field}` | {f['first']:g} | {f['last']:g} | {f['min']:g} | {f['max']:g} |")
        lines.append("")
    return lines


def _render_snapshots(snaps: dict[str, Any]) -> list[str]:
    rows = snaps["rows"]
    names = sorted({f for r in rows for f in r["files"]})
    lines = ["## Snapshots", "", f"{snaps['count']} snapshots; Δ lines since the previous one."]
    if snaps["omitted"]:
        lines[-1] += f" {snaps['omitted']} in the middle are only in events.jsonl."
    lines.append("")
    for name in names:
        shown = rows if len(rows) <= MD_SNAPSHOT_ROWS else rows[:5] + rows[-(MD_SNAPSHOT_ROWS - 5) :]
        lines += [f"### `{name}`", "", "| snapshot | calls | lines | Δ lines | size KB |", "|---|---:|---:|---:|---:|"]
        for i, r in enumerate(shown):
            if i == 5 and len(rows) > MD_SNAPSHOT_ROWS:
                lines.append("| … | | | | |")
            f = r["files"].get(name)
            if f is None:
                continue
            note = ""
            if f.get("truncated"):
                note = f" ({f['note']}; not judged)" if f.get("note") else " (truncated)"
            lines.append(
                f"| {r['label']} | {r['calls']} | {f['lines']} | {f['delta']:+d}{note} | {f['size'] / 1024:.1f} |"
            )
        lines.append("")
    return lines


def _render_processes(procs: dict[str, Any]) -> list[str]:
    lines = [
        "## Processes",
        "",
        f"Growth and trends after {procs['warmup_s']:g}s of warm-up ({procs.get('warmup_reason', 'configured')}); "
        f"growth is from the median of the first {BASELINE_SAMPLES} samples after it, growth since start from the "
        f"first sample; slope by Theil–Sen (95% interval, from {MIN_POINTS} points), "
        "confidence = fit × consistency of the two halves.",
        "",
        "| process | samples | RSS first MB | last MB | max MB | growth | since start | slope MB/h | confidence | "
        "to limit | CPU % mean/max | threads | open files |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in procs["list"]:
        slope = "—"
        if p["slope_mb_h"] is not None:
            slope = f"{p['slope_mb_h']:+.1f} ({p['slope_lo']:+.1f}…{p['slope_hi']:+.1f})"
        lines.append(
            f"| {p['name']} | {p['samples']} | {p['rss_first_mb']:.1f} | {p['rss_last_mb']:.1f} | "
            f"{p['rss_max_mb']:.1f} | {_n(p['growth'], '{:.3f}')} | {_n(p.get('growth_start'), '{:.3f}')} | "
            f"{slope} | {_n(p['confidence'], '{:.2f}')} | "
            f"{_eta(p['limit_eta_s'])} | {p['cpu_mean']:.0f}/{p['cpu_max']:.0f} | {p['threads']} | {p['open_files']} |"
        )
    lines.append("")
    tm = procs.get("tracemalloc")
    if tm and tm.get("top"):
        lines += [
            f"### Top allocation sites (tracemalloc, growth since {tm['since_t']:.0f}s)",
            "",
            "| site | growth KB | size KB | blocks |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| `{x['site']}` | {x['size_diff_kb']} | {x['size_kb']} | {x['count_diff']} |" for x in tm["top"]]
        lines.append("")
    return lines


#: the collectors' part of the report (the caller composing a stage passes it to build_summary / write_reports)
