"""Request rate: a live chart of calls/s with the current and average rate."""

from __future__ import annotations

from rich.console import Group, RenderableType

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._braille import LineChart
from soakwatch.tui._charts import series_tick
from soakwatch.tui._format import fit_pairs, fmt_count, fmt_rate
from soakwatch.tui.widgets._panel import Panel

__all__ = ["RatePanel", "render_rate"]


def _axis_rate(v: float) -> str:
    return f"{v:,.0f}/s" if v >= 10 or v == 0 else f"{v:.1f}/s"


def _tokens(snap: Snapshot) -> list[tuple[str, str, str]]:
    """Output tokens/s now and the totals, when the stage counts tokens."""
    t = snap.tokens
    if not t:
        return []
    return [
        ("tokens/s", "tok/s", fmt_rate(t.get("per_s", 0.0))),
        ("tokens out", "out", fmt_count(int(t.get("completion", 0.0)))),
        ("in", "in", fmt_count(int(t.get("prompt", 0.0)))),
    ]


def render_rate(snap: Snapshot, height: int = 4, width: int = 60) -> RenderableType:
    """Current and average calls/s, in flight, and the rate chart with marks (``height`` rows in all); in
    the open model the planned rate (a fixed rate or a ``[[shape]]``) is drawn behind the rate, in blue;
    under a concurrency ``[[shape]]`` a second chart draws the calls in flight with the planned level."""
    levels = snap.series.get("planned_concurrency")
    head = fit_pairs(
        [
            ("now", "now", fmt_rate(snap.rate)),
            ("avg", "avg", fmt_rate(snap.rate_avg)),
            ("in flight", "infl", fmt_count(snap.in_flight)),
            ("calls", "n", fmt_count(snap.calls)),
            *_tokens(snap),
            *([("planned", "plan", fmt_rate(snap.planned_rate or 0.0))] if snap.open_model else []),
            *([("planned in flight", "plan", fmt_count(int(levels[-1])))] if levels else []),
        ],
        width,
    )
    rows = max(2, height - 1)
    chart = LineChart(
        snap.series.get("rate", []),
        height=max(2, rows // 2) if levels else rows,
        style="green",
        marks=snap.marks,
        end_t=snap.elapsed,
        tick=series_tick(snap),
        fmt=_axis_rate,
        overlay=snap.series.get("planned_rate", []) if snap.open_model else (),
        overlay_style="blue",
    )
    if not levels:
        return Group(head, chart)
    in_flight = LineChart(  # a concurrency shape: calls in flight, the planned level behind them in blue
        snap.series.get("in_flight", []),
        height=max(2, rows - rows // 2),
        style="green",
        end_t=snap.elapsed,
        tick=series_tick(snap),
        fmt=lambda v: f"{v:,.0f}",
        overlay=levels,
        overlay_style="blue",
    )
    return Group(head, chart, in_flight)


class RatePanel(Panel):
    """Calls per second over time."""

    TITLE = "request rate"
    MIN_ROWS = 5
    WANT_ROWS = 12

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.calls) or not snap.nodes  # a node-only stage makes no calls

    def select(self, snap: Snapshot) -> object:
        planned = snap.series.get("planned_rate") if snap.open_model else None
        rate = snap.series.get("rate")
        levels = snap.series.get("planned_concurrency")
        shape = (snap.series.get("in_flight"), levels) if levels else None
        return (snap.rate, snap.rate_avg, snap.in_flight, snap.calls, rate, planned, snap.marks, snap.tokens, shape)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_rate(snap, height, width)
