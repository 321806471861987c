"""report.html of one run: verdict, charts on one time axis, tables; rebuilt from the run directory."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from soakwatch.core.reports import ReportSection
from soakwatch.views.html._charts import build_charts, markers_of
from soakwatch.views.html._downsample import MAX_POINTS
from soakwatch.views.html._page import render_page
from soakwatch.views.html._source import read_source
from soakwatch.views.html._tables import render_tables, verdict_block

__all__ = ["REPORT_NAME", "render_run_report", "try_write_run_report", "write_html", "write_run_report"]

REPORT_NAME = "report.html"


def render_run_report(run_dir: Path, sections: Sequence[ReportSection], max_points: int = MAX_POINTS) -> str:
    """The page for one run directory, from what is on disk (also for a run that was killed);
    ``sections`` rebuild the summary (the caller composing the stage knows them)."""
    src = read_source(run_dir, sections)
    charts, columns = build_charts(src)
    times = src.timeline.times
    end = times[-1] if len(times) else 0.0
    s = src.summary
    return render_page(
        title=f"soakwatch · {s.stage} · {s.verdict or s.state}",
        head=verdict_block(s),
        tables=render_tables(s, src.config, src.failures_md),
        times=times,
        columns=columns,
        charts=charts,
        markers=markers_of(src.events, end),
        x_label="since start",
        max_points=max_points,
    )


def write_html(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half a page."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_run_report(run_dir: Path, sections: Sequence[ReportSection]) -> Path:
    """Write ``RUN_DIR/report.html``; returns its path."""
    return write_html(run_dir / REPORT_NAME, render_run_report(run_dir, sections))


def try_write_run_report(run_dir: Path, sections: Sequence[ReportSection]) -> list[Path]:
    """At the end of a stage: write report.html, or say on stderr why not (the verdict is already
    decided and written; a page that cannot be drawn must not change it). ``soakwatch report``
    rebuilds it later."""
    try:
        return [write_run_report(run_dir, sections)]
    except Exception as exc:  # a view failing must not lose the stage's other reports
        print(f"soakwatch: {run_dir / REPORT_NAME} not written: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []
