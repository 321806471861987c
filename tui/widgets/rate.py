"""Request rate: a live chart of calls/s with the current and average rate."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._charts import TimeChart, series_tick
from soakwatch.tui._format import fmt_count, fmt_rate
from soakwatch.tui.widgets._panel import Panel

__all__ = ["RatePanel", "render_rate"]


def render_rate(snap: Snapshot, height: int = 4) -> RenderableType:
    """Current and average calls/s, in flight, and the rate chart with marks (``height`` rows in all)."""
    head = Text.assemble(
        ("now ", "dim"),
        (fmt_rate(snap.rate), "bold"),
        ("  avg ", "dim"),
        (fmt_rate(snap.rate_avg), "bold"),
        ("  in flight ", "dim"),
        (fmt_count(snap.in_flight), ""),
        ("  calls ", "dim"),
        (fmt_count(snap.calls), ""),
        no_wrap=True,
        overflow="ellipsis",
    )
    chart = TimeChart(
        snap.series.get("rate", []),
        height=max(1, height - 2),
        style="green",
        marks=snap.marks,
        end_t=snap.elapsed,
        tick=series_tick(snap),
    )
    return Group(head, chart)


class RatePanel(Panel):
    """Calls per second over time."""

    TITLE = "request rate"
    COLLAPSIBLE = False

    def select(self, snap: Snapshot) -> object:
        return (snap.rate, snap.rate_avg, snap.in_flight, snap.calls, snap.series.get("rate"), snap.marks)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_rate(snap, height)
