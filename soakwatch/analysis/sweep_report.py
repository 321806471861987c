"""The sweep report's files: sweep.json, sweep.md and sweep.svg (the model is in sweep_model)."""

from __future__ import annotations

import json
from pathlib import Path

from soakwatch.analysis.sweep_chart import draw_chart
from soakwatch.analysis.sweep_model import FLAT_BELOW, LINEAR_FROM, LINEAR_TO, MEASURES, SweepReport

__all__ = ["render_markdown", "write_report"]


# ------------------------------------------------------------------ Markdown
def _f(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def render_markdown(r: SweepReport) -> str:
    """sweep.md: axes, the exponents table and sentences, the chart, the cells."""
    lines = [f"# Sweep `{r.name}`: {len(r.cells)} of {r.planned} cells", ""]
    lines += [
        "Axes: "
        + " · ".join(
            f"`{k}` ({'profile field' if r.axis_kinds[k] == 'profile' else 'target parameter'}) = "
            + ", ".join(str(x) for x in v)
            for k, v in r.axes.items()
        ),
        "",
    ]
    fitted_axes = list(dict.fromkeys(f.axis for f in r.fits))
    if fitted_axes:
        measures = [m for m in MEASURES if any(f.measure == m for f in r.fits)]
        lines += [
            "## Scaling",
            "",
            "Exponent *b* in *measure ∝ axis^b*: least squares on log–log over every cell, the other axes held "
            f"by their own terms. Flat below |{FLAT_BELOW}|, linear {LINEAR_FROM}–{LINEAR_TO}, super-linear above.",
            "",
            "| axis | " + " | ".join(MEASURES[m] for m in measures) + " |",
            "|---|" + "---:|" * len(measures),
        ]
        for axis in fitted_axes:
            cells = []
            for m in measures:
                f = r.fit(m, axis)
                cells.append(f"{f.exponent:.2f} {f.shape}" if f else "—")
            lines.append(f"| `{axis}` | " + " | ".join(cells) + " |")
        r2s = [r.fit(m, fitted_axes[0]) for m in measures]
        lines.append("| R² of the fit | " + " | ".join(_f(f.r2) if f else "—" for f in r2s) + " |")
        lines += [""]
        for f in r.fits:
            lines.append(f"- {MEASURES[f.measure]} is **{f.shape}** in `{f.axis}` (b = {f.exponent:.2f})")
        lines += ["", "![scaling chart](sweep.svg)", ""]
    for n in r.notes:
        lines.append(f"> {n}")
    if r.notes:
        lines.append("")
    lines += _cells_table(r)
    lines.append("")
    return "\n".join(lines)


def _cells_table(r: SweepReport) -> list[str]:
    """The cells section of sweep.md: one row per cell with its parameters and headline numbers."""
    lines: list[str] = []
    names = list(r.axes)
    mem = next((c.rss_subject for c in r.cells if c.rss_subject), None)
    lines += [
        "## Cells",
        "",
        "| # | "
        + " | ".join(f"`{k}`" for k in names)
        + " | verdict | calls | errors % | calls/s | p50 ms | p95 ms | p99 ms | "
        + f"RSS max MB{f' ({mem})' if mem else ''} | run |",
        "|---:|" + "---:|" * len(names) + "---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in r.cells:
        rel = Path(c.run_dir).name
        lines.append(
            f"| {c.index + 1} | "
            + " | ".join(str(c.params.get(k, "")) for k in names)
            + f" | {c.state} | {c.calls} | {c.error_ratio * 100:.2f} | {_f(c.throughput, 1)} | {_f(c.p50_ms)} | "
            f"{_f(c.p95_ms)} | {_f(c.p99_ms)} | {_f(c.rss_mb, 1)} | `cells/{rel}` |"
        )
    return lines


def write_report(report: SweepReport, sweep_dir: Path, chart: bool = True) -> list[Path]:
    """sweep.json, sweep.md and (when asked and a fit exists) sweep.svg; each replaced atomically.

    The chart takes about a second to draw, so a sweep draws it once, at its end.
    """
    out = []
    for name, text in (
        ("sweep.json", json.dumps(report.to_json(), indent=2) + "\n"),
        ("sweep.md", render_markdown(report)),
    ):
        tmp = sweep_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(sweep_dir / name)
        out.append(sweep_dir / name)
    if chart and report.fits:
        out.append(draw_chart(report, sweep_dir / "sweep.svg"))
    return out
