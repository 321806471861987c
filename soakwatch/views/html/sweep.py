"""sweep.html: the scaling charts of a sweep (log–log, one line per setting of the other axes, the
fitted exponent dashed) beside its exponents and its cells.

It takes the sweep report as the plain data of ``sweep.json`` (``SweepReport.to_json()``), so this
view does not depend on how the sweep is fitted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from soakwatch.views.html._charts import Chart, Line
from soakwatch.views.html._page import render_page
from soakwatch.views.html._style import color
from soakwatch.views.html._tables import table
from soakwatch.views.html.report import write_html

__all__ = ["SWEEP_MEASURES", "render_sweep_report", "write_sweep_report"]

#: measures charted, with their labels (the cells' fields in sweep.json)
SWEEP_MEASURES = {
    "throughput": "throughput (calls/s)",
    "p50_ms": "latency p50 (ms)",
    "p95_ms": "latency p95 (ms)",
    "rss_mb": "memory (RSS MB)",
}
#: lines per chart; more settings of the other axes are left to the table
MAX_LINES = 8


def _positive(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and v > 0 else None


def _chart(rep: Mapping[str, Any], fit: Mapping[str, Any], columns: dict[str, list[float]], n: int) -> Chart | None:
    measure, axis = str(fit["measure"]), str(fit["axis"])
    axes = {str(a["name"]): a["values"] for a in rep.get("axes") or []}
    others = [k for k, v in axes.items() if k != axis and len(v) > 1]
    xs = sorted({x for c in rep.get("cells") or [] if (x := _positive((c.get("params") or {}).get(axis)))})
    groups: dict[str, dict[float, float]] = {}
    for c in rep.get("cells") or []:
        params = c.get("params") or {}
        x, y = _positive(params.get(axis)), _positive(c.get(measure))
        if x is not None and y is not None:
            label = ", ".join(f"{k}={params.get(k)}" for k in others) or "all"
            groups.setdefault(label, {})[x] = y
    if not xs or not groups:
        return None
    lines: list[Line] = []
    for j, (label, pts) in enumerate(list(groups.items())[:MAX_LINES]):
        key = f"c{n}-{j}"
        columns[key] = [pts.get(x, math.nan) for x in xs]
        lines.append(Line(key, label, color(j)))
    every = [(x, y) for pts in groups.values() for x, y in pts.items()]
    b = float(fit["exponent"])
    gx = math.exp(sum(math.log(x) for x, _ in every) / len(every))
    gy = math.exp(sum(math.log(y) for _, y in every) / len(every))
    columns[f"c{n}-fit"] = [gy * (x / gx) ** b for x in xs]
    lines.append(Line(f"c{n}-fit", f"fit b = {b:.2f}", "#555555", dash=True))
    title = f"{SWEEP_MEASURES[measure]}: {fit.get('shape')} in {axis} (b = {b:.2f})"
    return Chart(f"sweep-{n}", title, "", lines, x=xs, x_label=axis, log=True)


def _tables(rep: Mapping[str, Any]) -> str:
    fits = rep.get("fits") or []
    out = "<h2>Exponents</h2>" + table(
        ["measure", "axis", "exponent b (measure ∝ axis^b)", "shape", "R²", "cells"],
        (
            [
                SWEEP_MEASURES.get(f["measure"], f["measure"]),
                f["axis"],
                f["exponent"],
                f["shape"],
                f.get("r2"),
                f["cells"],
            ]
            for f in fits
        ),
    )
    cells: Sequence[Mapping[str, Any]] = rep.get("cells") or []
    keys = ["state", "calls", "error_ratio", "throughput", "p50_ms", "p95_ms", "p99_ms", "rss_mb", "run_dir"]
    axes = [str(a["name"]) for a in rep.get("axes") or []]
    out += "<h2>Cells</h2>" + table(
        axes + keys, ([(c.get("params") or {}).get(a) for a in axes] + [c.get(k) for k in keys] for c in cells)
    )
    notes = rep.get("notes") or []
    if notes:
        out += "<h2>Notes</h2><ul>" + "".join(f"<li>{escape(str(n))}</li>" for n in notes) + "</ul>"
    return out


def render_sweep_report(rep: Mapping[str, Any]) -> str:
    """The page of a sweep, from the plain data of sweep.json."""
    columns: dict[str, list[float]] = {}
    charts = [
        ch
        for n, fit in enumerate(rep.get("fits") or [])
        if fit.get("measure") in SWEEP_MEASURES and (ch := _chart(rep, fit, columns, n)) is not None
    ]
    done = len(rep.get("cells") or [])
    line = f"sweep {rep.get('name')}: {done} of {rep.get('planned_cells')} cells"
    head = f'<div class="verdict" id="verdict">{escape(line)}</div>'
    return render_page(
        title=f"soakwatch sweep · {rep.get('name')}",
        head=head,
        tables=_tables(rep),
        times=[],
        columns=columns,
        charts=charts,
        markers=[],
        x_label="",
        charts_title="Scaling",
        hint="Log–log: a straight line of slope b means the measure grows as axis^b; the fit is dashed.",
    )


def write_sweep_report(rep: Mapping[str, Any], sweep_dir: Path) -> Path:
    return write_html(sweep_dir / "sweep.html", render_sweep_report(rep))
