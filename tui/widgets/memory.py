"""Memory: RSS trend per process (monitor, workers, nodes) with slope and growth ratio; GPU memory when sampled."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from soakwatch.core.snapshot import ProcView, Snapshot
from soakwatch.tui._braille import LineChart, nice_ceiling
from soakwatch.tui._charts import sparkline
from soakwatch.tui._format import fmt_signed
from soakwatch.tui._grid import Cell, Justify, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["MemoryPanel", "render_memory"]

#: the RSS trend column is at most this wide, and left out below the minimum
TREND_WIDTH = 24
TREND_MIN = 6
#: room the other columns need besides the name (rss, slope, growth and padding)
OTHER_COLUMNS = 30
#: the process name column's widest
NAME_WIDTH = 12
#: rows left under the table before the chart of the fastest-growing process is drawn
CHART_MIN_ROWS = 4
#: rows the chart could use (its slope line needs a few to be seen)
CHART_WANT_ROWS = 7
#: the colour of the fitted slope line over the RSS points
FIT_STYLE = "yellow"
#: growth ratios above this are shown as a warning
GROWTH_WARN = 1.5


def _slope(p: ProcView) -> Text:
    if p.slope_mb_h is None:
        return Text("—", style="dim")
    conf = f" {p.slope_confidence:.0%}" if p.slope_confidence is not None else ""
    style = "yellow" if p.slope_mb_h > 0 and (p.slope_confidence or 0) >= 0.5 else ""
    return Text(fmt_signed(p.slope_mb_h) + conf, style=style)


def _growth(p: ProcView) -> Text:
    if p.growth is None:
        return Text("—", style="dim")
    return Text(f"×{p.growth:.2f}", style="bold yellow" if p.growth >= GROWTH_WARN else "")


def _axis_mb(v: float) -> str:
    return f"{v:g}MB"


def render_memory(snap: Snapshot, height: int = 6, width: int = 80) -> RenderableType:
    """One row per process: RSS now, its trend on an absolute scale (0 to the biggest RSS, so
    22.6 → 23.1 MB stays flat), slope MB/h with its confidence, and growth since warm-up;
    with room to spare, the chart of the fastest-growing process under the table."""
    procs = snap.processes[: max(1, height - 1)]
    name_w = min(NAME_WIDTH, max((len(p.name) for p in procs), default=6))
    trend = min(TREND_WIDTH, width - OTHER_COLUMNS - name_w)
    top = nice_ceiling(max((v for p in procs for v in p.rss_tail), default=1.0))
    header = ["process", "rss MB", *([f"0–{top:g} MB"] if trend >= TREND_MIN else []), "MB/h", "growth"]
    rows: list[list[Cell]] = []
    for p in procs:
        rss = f"{p.rss_mb:,.1f}" if p.alive else "dead"
        cells: list[Cell] = [Text(p.name, style="" if p.alive else "strike red"), rss]
        if trend >= TREND_MIN:
            cells.append(Text(sparkline(p.rss_tail, trend, 0.0, top).ljust(trend), style="magenta"))
        rows.append([*cells, _slope(p), _growth(p)])
    trend_col: list[Justify] = ["left"] if trend >= TREND_MIN else []
    justify: list[Justify] = ["left", "right", *trend_col, "right", "right"]
    table: RenderableType = grid(rows, width, header=header, justify=justify, flex=0)
    gpu = _gpu_lines(snap)
    if gpu:
        table = Group(table, *gpu)
    room = height - len(procs) - 1 - len(gpu)
    growing = [p for p in procs if p.slope_mb_h is not None and p.alive]
    if room < CHART_MIN_ROWS or not growing:
        return table
    p = max(growing, key=lambda q: q.slope_mb_h or 0.0)
    # the fitted slope drawn over the points it was fitted to (the value in the title)
    fit = p.rss_fit if len(p.rss_fit) == len(p.rss_tail) else []
    title = Text.assemble(
        ("rss of ", "dim"), (p.name, "bold"), ("  slope ", "dim"), _slope(p), (" MB/h", "dim"), no_wrap=True
    )
    if fit:
        title.append("  ⣀⠤⠒ fitted", style=FIT_STYLE)
    chart = LineChart(p.rss_tail, height=room - 1, style="magenta", fmt=_axis_mb, time_axis=False)
    chart.overlay, chart.overlay_style = fit, FIT_STYLE
    return Group(table, title, chart)


def _gpu_lines(snap: Snapshot) -> list[Text]:
    """One line per GPU (memory used of total, utilisation) and per target process on them, or "no GPU"."""
    out = []
    for g in snap.gpus:
        if g.total_mb is not None:
            util = f"  util {g.util_pct:.0f}%" if g.util_pct is not None else ""
            out.append(Text(f"{g.name}  {g.mem_mb:,.0f} / {g.total_mb:,.0f} MB{util}", style="cyan", no_wrap=True))
        else:
            out.append(Text(f"{g.name} on GPU  {g.mem_mb:,.0f} MB", style="cyan", no_wrap=True))
    if snap.gpu_note:
        out.append(Text(snap.gpu_note, style="dim", no_wrap=True))
    return out


class MemoryPanel(Panel):
    """Process memory."""

    TITLE = "memory"

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        gpu = len(snap.gpus) + bool(snap.gpu_note)
        return 1 + min(len(snap.processes), 3) + gpu, 1 + len(snap.processes) + gpu + 1 + CHART_WANT_ROWS

    def select(self, snap: Snapshot) -> object:
        return (snap.processes, snap.gpus, snap.gpu_note)

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.processes or snap.gpus)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_memory(snap, height, width)
