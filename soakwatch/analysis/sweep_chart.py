"""sweep.svg: one log–log panel per (measure, numeric axis), one line per setting of the other axes.

Drawn with matplotlib's object API (``Figure``, no pyplot and no global backend), so
it works headless and in any thread. The dashed line in each panel has the fitted
exponent's slope, through the geometric mean of the points, so a reader sees at a
glance whether the measured lines follow it. Output is deterministic (no date, fixed
SVG id salt) so a regenerated chart only differs when the data does.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from soakwatch.analysis.sweep_model import MEASURES, SweepReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Points = list[tuple[float, float]]

__all__ = ["draw_chart"]

PANEL_W, PANEL_H = 4.2, 3.0
#: lines drawn per panel; more settings of the other axes than this are left out (the table has them)
MAX_LINES = 8
CHART_MEASURES = ("throughput", "p50_ms", "rss_mb")
SHORT = {"throughput": "throughput", "p50_ms": "latency p50", "p95_ms": "latency p95", "rss_mb": "memory"}


def draw_chart(report: SweepReport, path: Path) -> Path:
    """Write the chart to ``path`` (SVG) and return it."""
    import matplotlib
    from matplotlib.figure import Figure

    axes_names = list(dict.fromkeys(f.axis for f in report.fits))
    measures = [m for m in CHART_MEASURES if any(f.measure == m for f in report.fits)]
    fig = Figure(figsize=(PANEL_W * len(axes_names), PANEL_H * len(measures)), layout="constrained")
    grid = fig.subplots(len(measures), len(axes_names), squeeze=False)
    for row, measure in enumerate(measures):
        for col, axis in enumerate(axes_names):
            _panel(grid[row][col], report, measure, axis)
    fig.suptitle(f"sweep {report.name}: {len(report.cells)} of {report.planned} cells")
    tmp = path.with_name(f".{path.name}.tmp")
    with matplotlib.rc_context({"svg.hashsalt": "soakwatch", "svg.fonttype": "none"}):
        fig.savefig(tmp, format="svg", metadata={"Date": None})
    tmp.replace(path)
    return path


def _groups(report: SweepReport, measure: str, axis: str, others: list[str]) -> dict[tuple[object, ...], Points]:
    """The measured points of one panel, one line per setting of the other axes."""
    groups: dict[tuple[object, ...], Points] = {}
    for c in report.cells:
        y = c.value(measure)
        x = c.params.get(axis)
        if y is None or y <= 0 or not isinstance(x, int | float):
            continue
        groups.setdefault(tuple(c.params[k] for k in others), []).append((float(x), y))
    return groups


def _panel(ax: Axes, report: SweepReport, measure: str, axis: str) -> None:
    """One log–log panel: a line per setting of the other axes and the fitted slope, dashed."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    others = [k for k in report.axes if k != axis and len(report.axes[k]) > 1]
    groups = _groups(report, measure, axis, others)
    for key, pts in list(groups.items())[:MAX_LINES]:
        pts.sort()
        label = ", ".join(f"{k}={v}" for k, v in zip(others, key, strict=True)) or "all"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", linewidth=1.2, label=label)
    fit = report.fit(measure, axis)
    every = [p for pts in groups.values() for p in pts]
    if fit is not None and every:
        gx = math.exp(sum(math.log(x) for x, _ in every) / len(every))
        gy = math.exp(sum(math.log(y) for _, y in every) / len(every))
        xs = sorted({x for x, _ in every})
        fitted = [gy * (x / gx) ** fit.exponent for x in xs]
        ax.plot(xs, fitted, linestyle="--", color="0.4", linewidth=1, label=f"fit b={fit.exponent:.2f}")
        ax.set_title(f"{SHORT[measure]}: {fit.shape} in {axis} (b = {fit.exponent:.2f})", fontsize=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _pos: f"{v:g}")
    xs_all = sorted({x for x, _ in every})
    if xs_all:
        ax.set_xticks(xs_all)
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(axis)
    ax.set_ylabel(MEASURES[measure])
    ax.grid(True, which="both", linewidth=0.3, alpha=0.6)
    ax.legend(fontsize=7, loc="best")
