"""One self-contained HTML page: the template with uPlot, the page's script and style and the
data inlined. Nothing in it is loaded from anywhere (its Content-Security-Policy forbids it)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from functools import cache
from html import escape
from importlib import metadata, resources
from typing import Any

from soakwatch.views.html._charts import Chart, Column, Marker
from soakwatch.views.html._downsample import MAX_POINTS, downsample
from soakwatch.views.html._style import MARKER_KINDS, STATUS_COLORS

__all__ = ["UPLOT_VERSION", "legend_html", "render_page"]

#: bytes of embedded data a page aims at (the whole file stays under ~2 MB), and what one value
#: costs in it (five digits, a sign or a point, a comma); a run with many series gets fewer points
#: per series, never fewer than MIN_POINTS
DATA_BUDGET_BYTES = 1_600_000
BYTES_PER_VALUE = 8
MIN_POINTS = 400
#: the vendored uPlot (vendor/VERSION says where it came from)
UPLOT_VERSION = "1.6.32"
TIME_HINT = "One time axis for every chart: drag on a chart to zoom all of them, double-click to zoom out."
_SLOT = re.compile(r"<!--SW:(\w+)-->")
_LEGEND = {
    "chaos": "chaos window",
    "operator": "operator action",
    "truncate": "truncation",
    "abort": "abort",
    "node": "node exit/restart",
    "collector": "collector error",
}


@cache
def _asset(name: str) -> str:
    return resources.files("soakwatch.views.html").joinpath(name).read_text(encoding="utf-8")


def _version() -> str:
    try:
        return metadata.version("soakwatch")
    except metadata.PackageNotFoundError:
        return "?"


def _json_for_script(data: Any) -> str:
    """JSON that cannot end its <script> element early."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def legend_html(markers: Sequence[Marker]) -> str:
    kinds = list(dict.fromkeys(m.kind for m in markers))
    chips = [
        f'<span class="legend-chip" style="background:{MARKER_KINDS[k]}"></span>{escape(_LEGEND.get(k, k))}'
        for k in kinds
        if k in MARKER_KINDS
    ]
    return ("Marked on every chart: " + " ".join(chips)) if chips else ""


def render_page(
    *,
    title: str,
    head: str,
    tables: str,
    times: Column,
    columns: Mapping[str, Column],
    charts: Sequence[Chart],
    markers: Sequence[Marker],
    x_label: str = "time",
    max_points: int = MAX_POINTS,
    charts_title: str = "Timeline",
    hint: str = TIME_HINT,
) -> str:
    """The page as one string; ``columns`` are downsampled to ``max_points`` points each, fewer
    when there are so many series that the page would outgrow its budget."""
    fit = DATA_BUDGET_BYTES // (BYTES_PER_VALUE * max(1, len(columns)))
    x, series = downsample(times, columns, max(MIN_POINTS, min(max_points, fit)))
    data = {
        "x": x,
        "x_label": x_label,
        "series": series,
        "charts": [asdict(c) for c in charts],
        "markers": [asdict(m) for m in markers],
        "status_colors": STATUS_COLORS,
        "marker_colors": MARKER_KINDS,
    }
    slots = {
        "title": escape(title),
        "version": escape(_version()),
        "uplot_version": UPLOT_VERSION,
        "uplot_css": _asset("vendor/uPlot.min.css"),
        "uplot_js": _asset("vendor/uPlot.iife.min.js"),
        "uplot_license": escape(_asset("vendor/uPlot.LICENSE")),
        "css": _asset("report.css"),
        "js": _asset("report.js"),
        "head": head,
        "legend": legend_html(markers),
        "charts_title": escape(charts_title),
        "hint": escape(hint),
        "tables": tables,
        "data": _json_for_script(data),
    }
    return _SLOT.sub(lambda m: slots[m.group(1)], _asset("template.html"))
