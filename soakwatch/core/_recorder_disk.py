"""The recorder's files on disk: timeline cells, the late-series file and the histogram files."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import IO

from soakwatch.core.callvalues import CallValueStore
from soakwatch.core.histogram import LatencyHistogram

__all__ = ["fmt_cell", "write_extra", "write_histograms"]


def fmt_cell(v: float | int | None) -> str:
    """A timeline.csv cell: empty for a missing value, numbers without trailing zeros."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def write_extra(extra: IO[str] | None, run_dir: Path, t: float, late: dict[str, float]) -> IO[str]:
    """Append the series that appeared after the timeline header to timeline_extra.csv
    (opened, with its header when new, on first use); returns the open file."""
    if extra is None:
        new = not (run_dir / "timeline_extra.csv").exists()
        extra = (run_dir / "timeline_extra.csv").open("a", encoding="utf-8")
        if new:
            extra.write("t,series,value\n")
    for k, v in sorted(late.items()):
        extra.write(f"{round(t, 3)},{k},{fmt_cell(v)}\n")
    extra.flush()
    return extra


def write_histograms(
    run_dir: Path, hist: LatencyHistogram, sched_hist: LatencyHistogram | None, callvalues: CallValueStore
) -> None:
    """Replace latency.hdr (and phases.hdr when phases are timed) atomically."""
    lines = [hist.encode()]
    if sched_hist is not None:
        lines.append(sched_hist.encode())
    tmp = run_dir / "latency.hdr.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="ascii")
    os.replace(tmp, run_dir / "latency.hdr")
    if callvalues.phases:
        tmp = run_dir / "phases.hdr.tmp"
        tmp.write_text(callvalues.encode_phases(), encoding="utf-8")
        os.replace(tmp, run_dir / "phases.hdr")
