"""``soakwatch compare --html FILE``: the runs' charts overlaid on a relative time axis (seconds since
each run's start) beside the comparison table.

The comparison itself comes from the caller as plain data (header, and rows of (text, outcome)
cells), so this view does not depend on how compare judges; each run directory is read through
the one reader (:func:`soakwatch.views.html._source.read_source`), so a killed run is drawn too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

from soakwatch.core.reports import ReportSection
from soakwatch.views.html._charts import Chart, Column, Line, build_charts
from soakwatch.views.html._downsample import MAX_POINTS, downsample
from soakwatch.views.html._page import render_page
from soakwatch.views.html._source import RunSource, read_source
from soakwatch.views.html._style import color
from soakwatch.views.html.report import write_html

__all__ = ["render_compare_report", "write_compare_report"]

Cell = tuple[str, str]
#: charts overlaid across runs (chart ids of the run report) and the short titles of their lines' charts
OVERLAID = {
    "throughput": "",
    "latency": "latency (ms)",
    "load": "",
    "kind-rss_mb": "RSS (MB)",
    "kind-size_kb": "size (KB)",
    "kind-lines": "lines",
    "kind-delta_lines": "snapshot Δ lines",
}
#: lines left out of the overlay (a fitted slope, the error stack: drawn as one total instead)
_NOT_OVERLAID = ("rss_fit[", "errors_per_s[", "sched_")


def _overlay_keys(src: RunSource) -> list[tuple[str, str, str]]:
    """(key, chart title, line label) of the lines of one run worth overlaying."""
    charts, _ = build_charts(src)
    out = []
    for ch in charts:
        if ch.id in OVERLAID or ch.id.startswith("gate-"):
            for line in ch.lines:
                if not line.key.startswith(_NOT_OVERLAID) and line.label != "threshold":
                    if ch.id.startswith("gate-"):
                        out.append((line.key, ch.title.split(":")[0] + ": value", ""))
                    else:
                        out.append((line.key, f"{line.label} {OVERLAID[ch.id]}".strip(), ""))
    return out


def _errors_per_s(src: RunSource) -> list[float]:
    cols = src.timeline.columns
    empty: Column = []
    t, e, o = cols.get("t", empty), cols.get("errors", empty), cols.get("timeouts", empty)
    out = []
    for i in range(len(t)):
        n = (e[i] + o[i] - (e[i - 1] + o[i - 1] if i else 0.0)) if i < len(e) and i < len(o) else math.nan
        dt = t[i] - t[i - 1] if i else t[i]
        out.append(n / dt if dt > 0 else math.nan)
    return out


def _merge(
    runs: Sequence[tuple[str, RunSource]], max_points: int
) -> tuple[list[float], dict[str, list[float]], list[Chart]]:
    """One x axis (the union of the runs' downsampled times) and one chart per overlaid line."""
    per_run: list[tuple[list[float], dict[str, list[float | None]]]] = []
    titles: dict[str, str] = {}
    for _, src in runs:
        _, columns = build_charts(src)
        cols: dict[str, Column] = {}
        for key, title, _label in _overlay_keys(src):
            cols[key] = columns[key]
            titles.setdefault(key, title)
        cols["errors_per_s"] = _errors_per_s(src)
        titles.setdefault("errors_per_s", "Errors/s (all kinds)")
        per_run.append(downsample(src.timeline.times, cols, max_points))
    xs = sorted({t for times, _ in per_run for t in times})
    pos = {x: i for i, x in enumerate(xs)}
    merged: dict[str, list[float]] = {}
    charts: dict[str, Chart] = {}
    for j, ((label, _), (x, series)) in enumerate(zip(runs, per_run, strict=True)):
        for key, values in series.items():
            col = [math.nan] * len(xs)
            for xv, v in zip(x, values, strict=True):
                col[pos[xv]] = math.nan if v is None else v
            merged[f"run{j}:{key}"] = col
            chart = charts.setdefault(key, Chart(f"cmp-{len(charts)}", titles[key], "", []))
            chart.lines.append(Line(f"run{j}:{key}", label, color(j)))
    return xs, merged, list(charts.values())


def _table_html(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="cmp-{escape(o)}">{escape(t)}</td>' if o else f"<td>{escape(t)}</td>" for t, o in r)
        + "</tr>"
        for r in rows
    )
    return f'<table class="compare"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_compare_report(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    runs: Sequence[tuple[str, Path]],
    summary_line: str,
    sections: Sequence[ReportSection],
    max_points: int = MAX_POINTS,
) -> str:
    """The page: the summary line and the table, the overlaid charts, the runs' verdicts and directories."""
    sources = [(label, read_source(d, sections)) for label, d in runs]
    xs, merged, charts = _merge(sources, max_points)
    items = "".join(
        f"<li><b>{escape(label)}</b>: {escape(src.summary.verdict or src.summary.state)}"
        + ("" if src.summary.complete else " (incomplete: the runner stopped before its end)")
        + f" · <code>{escape(str(src.run_dir))}</code></li>"
        for label, src in sources
    )
    head = f'<div class="verdict" id="verdict">{escape(summary_line)}</div>' + _table_html(header, rows)
    tables = f"<h2>Runs</h2><ol>{items}</ol>"
    return render_page(
        title="soakwatch compare · " + " vs ".join(label for label, _ in runs),
        head=head,
        tables=tables,
        times=xs,
        columns=merged,
        charts=charts,
        markers=[],
        x_label="since each run's start",
        max_points=max(len(xs), 1),
        hint="Time since each run's start. Drag on a chart to zoom all of them, double-click to zoom out; "
        "each run's chaos windows and gate bands are in its own report.html.",
    )


def write_compare_report(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    runs: Sequence[tuple[str, Path]],
    line: str,
    sections: Sequence[ReportSection],
) -> Path:
    return write_html(path, render_compare_report(header, rows, runs, line, sections))
