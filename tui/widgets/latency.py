"""Latency: p50 / p95 / p99 now and over the run, the p95 trend, and for an open
(fixed arrival rate) model both "from scheduled start" and "from actual start"."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._charts import TimeChart, series_tick
from soakwatch.tui._format import fmt_ms
from soakwatch.tui.widgets._panel import Panel

__all__ = ["LatencyPanel", "render_latency"]

PERCENTILES = ("p50", "p95", "p99")


def _row(table: Table, label: str, values: dict[str, float], style: str = "") -> None:
    table.add_row(label, *(fmt_ms(values.get(p)) for p in PERCENTILES), fmt_ms(values.get("max")), style=style)


def latency_table(snap: Snapshot) -> Table:
    """The percentile rows: live window, whole run, and from the scheduled start (open model)."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="dim", no_wrap=True, overflow="ellipsis", ratio=1)
    for _ in (*PERCENTILES, "max"):
        table.add_column(justify="right", no_wrap=True)
    table.add_row("", *(Text(p, style="dim") for p in (*PERCENTILES, "max")))
    if snap.open_model and snap.latency_sched is not None:
        _row(table, "from scheduled start", snap.latency_sched, "bold")
        _row(table, "from actual start", snap.latency)
    else:
        _row(table, "now", snap.latency, "bold")
    if snap.latency_run:
        _row(table, "whole run", snap.latency_run)
    return table


def render_latency(snap: Snapshot, height: int = 6) -> RenderableType:
    """The percentile table above the p95 trend chart (with marks) filling the rest of ``height``."""
    table = latency_table(snap)
    used = 1 + (2 if snap.open_model and snap.latency_sched is not None else 1) + (1 if snap.latency_run else 0)
    room = height - used
    if room < 2:
        return table
    chart = TimeChart(
        snap.series.get("p95_ms", []),
        height=room - 1,
        style="cyan",
        marks=snap.marks,
        end_t=snap.elapsed,
        tick=series_tick(snap),
    )
    return Group(table, chart)


class LatencyPanel(Panel):
    """Latency percentiles and their trend."""

    TITLE = "latency"
    COLLAPSIBLE = False

    def select(self, snap: Snapshot) -> object:
        return (snap.latency, snap.latency_run, snap.latency_sched, snap.series.get("p95_ms"), snap.marks)

    def subtitle(self, snap: Snapshot) -> str:
        return "chart: p95"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_latency(snap, height)
