"""Latency: p50 / p95 / p99 now and over the run, the trend of the percentile the operator
chose (``l`` cycles p50 → p95 → p99) or the distribution over time as a heatmap (``h``), and
for an open (fixed arrival rate) model both "from scheduled start" and "from actual start"."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.reactive import reactive

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._braille import LineChart
from soakwatch.tui._charts import series_tick
from soakwatch.tui._format import fmt_ms
from soakwatch.tui._grid import Cell, grid
from soakwatch.tui._heatmap import HeatMap
from soakwatch.tui.widgets._panel import Panel

__all__ = ["LatencyPanel", "render_latency"]

PERCENTILES = ("p50", "p95", "p99")
#: phases listed under the percentiles, at most (the summary has them all)
MAX_PHASES = 4
#: the percentile charted until the operator picks another
DEFAULT_CHART = "p95"


def _axis_ms(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:g}s"
    return f"{v:g}ms"


def _row(label: str, values: dict[str, float], style: str = "") -> list[Cell]:
    return [Text(label, style="dim"), *(Text(fmt_ms(values.get(p)), style=style) for p in (*PERCENTILES, "max"))]


def latency_table(snap: Snapshot, width: int = 60) -> Text:
    """The percentile rows: live window, whole run, and from the scheduled start (open model)."""
    rows = [[""] + [Text(p, style="dim") for p in (*PERCENTILES, "max")]]
    if snap.open_model and snap.latency_sched is not None:
        rows.append(_row("from scheduled start", snap.latency_sched, "bold"))
        rows.append(_row("from actual start", snap.latency))
    else:
        rows.append(_row("now", snap.latency, "bold"))
    if snap.latency_run:
        rows.append(_row("run", snap.latency_run))
    for name, values in sorted(snap.phases.items())[:MAX_PHASES]:
        rows.append(_row(f"phase {name}", values))  # whole run, timed by the target with soakwatch.phase
    return grid(rows, width, justify=["left", "right", "right", "right", "right"], flex=0)


def render_latency(
    snap: Snapshot, height: int = 6, percentile: str = DEFAULT_CHART, width: int = 60, heat: bool = False
) -> RenderableType:
    """The percentile table above the chosen percentile's chart (with marks) filling the rest of
    ``height``; with ``heat``, the latency heatmap (calls per tick per latency bucket) instead."""
    table = latency_table(snap, width)
    used = 1 + (2 if snap.open_model and snap.latency_sched is not None else 1) + (1 if snap.latency_run else 0)
    used += min(len(snap.phases), MAX_PHASES)
    room = height - used
    if room < 3:
        return table
    if heat:
        if not snap.latency_heat:  # a replay: the timeline keeps percentiles, not the histograms per tick
            return Group(table, Text("no latency heatmap in this view (h: back to the chart)", style="dim"))
        return Group(
            table, HeatMap(snap.latency_heat, height=room, marks=snap.marks, end_t=snap.elapsed, tick=series_tick(snap))
        )
    chart = LineChart(
        snap.series.get(f"{percentile}_ms", []),
        height=room,
        style="cyan",
        marks=snap.marks,
        end_t=snap.elapsed,
        tick=series_tick(snap),
        fmt=_axis_ms,
    )
    return Group(table, chart)


class LatencyPanel(Panel):
    """Latency percentiles and their trend."""

    TITLE = "latency"
    #: the charted percentile (the app's ``l`` key cycles it)
    percentile: reactive[str] = reactive(DEFAULT_CHART, init=False)
    #: the heatmap instead of the line chart (the app's ``h`` key toggles it)
    heat: reactive[bool] = reactive(False, init=False)

    def select(self, snap: Snapshot) -> object:
        return (
            snap.latency,
            snap.latency_run,
            snap.latency_sched,
            snap.phases,
            snap.latency_heat if self.heat else snap.series.get(f"{self.percentile}_ms"),
            snap.marks,
        )

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.calls) or not snap.nodes  # a node-only stage makes no calls

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        table = 2 + (1 if snap.open_model and snap.latency_sched is not None else 0) + (1 if snap.latency_run else 0)
        table += min(len(snap.phases), MAX_PHASES)
        return table + 4, table + 10

    def subtitle(self, snap: Snapshot) -> str:
        return "heatmap, calls/tick (h)" if self.heat else f"chart {self.percentile} (l) · h heatmap"

    def cycle(self) -> str:
        """Chart the next percentile; returns it."""
        self.percentile = PERCENTILES[(PERCENTILES.index(self.percentile) + 1) % len(PERCENTILES)]
        return self.percentile

    def toggle_heat(self) -> bool:
        """Show the heatmap instead of the chart, or back; returns whether the heatmap is shown."""
        self.heat = not self.heat
        return self.heat

    def watch_heat(self) -> None:
        self.watch_percentile()

    def watch_percentile(self) -> None:
        if self._shown is not None:
            self.border_subtitle = self.subtitle(self._shown)
            self._key = None
            self.refresh()

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_latency(snap, height, self.percentile, width, self.heat)
