"""Memory: RSS trend per process (monitor, workers, nodes) with slope and growth ratio."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from soakwatch.core.snapshot import ProcView, Snapshot
from soakwatch.tui._charts import sparkline
from soakwatch.tui._format import fmt_signed
from soakwatch.tui.widgets._panel import Panel

__all__ = ["MemoryPanel", "render_memory"]

#: the RSS trend column is at most this wide, and left out below the minimum
TREND_WIDTH = 24
TREND_MIN = 6
#: room the other columns need (name, rss, slope, growth and padding)
OTHER_COLUMNS = 44
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


def render_memory(snap: Snapshot, height: int = 6, width: int = 80) -> RenderableType:
    """One row per process: RSS now, its trend (when there is room), slope MB/h with its
    confidence, and growth since warm-up."""
    trend = min(TREND_WIDTH, width - OTHER_COLUMNS)
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False, header_style="dim", pad_edge=False)
    table.add_column("process", no_wrap=True, overflow="ellipsis", ratio=1, min_width=6)
    table.add_column("rss MB", justify="right", no_wrap=True)
    if trend >= TREND_MIN:
        table.add_column("trend", no_wrap=True, width=trend)
    table.add_column("MB/h", justify="right", no_wrap=True)
    table.add_column("growth", justify="right", no_wrap=True)
    for p in snap.processes[: max(1, height - 1)]:
        cells: list[str | Text] = [Text(p.name, style="" if p.alive else "strike red"), f"{p.rss_mb:,.1f}"]
        if trend >= TREND_MIN:
            cells.append(Text(sparkline(p.rss_tail, trend), style="magenta"))
        table.add_row(*cells, _slope(p), _growth(p))
    return table


class MemoryPanel(Panel):
    """Process memory."""

    TITLE = "memory"

    def select(self, snap: Snapshot) -> object:
        return snap.processes

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.processes)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_memory(snap, height, width)
