"""Snapshots: the Δ lines of each watched file between snapshots, newest first."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import fmt_count, fmt_signed
from soakwatch.tui.widgets._panel import Panel

__all__ = ["SnapshotsPanel", "render_snapshots"]


def render_snapshots(snap: Snapshot, height: int = 6) -> RenderableType:
    """``previous → label  file  lines  Δ`` rows, newest first, as many as ``height`` allows."""
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False, header_style="dim")
    table.add_column("snapshot", no_wrap=True, overflow="ellipsis", ratio=1, min_width=8)
    table.add_column("file", no_wrap=True)
    table.add_column("lines", justify="right", no_wrap=True)
    table.add_column("Δ", justify="right", no_wrap=True)
    rows = sorted(snap.snapshots, key=lambda r: (r.calls, r.t), reverse=True)
    for row in rows[: max(1, height - 1)]:
        name = f"{row.previous} → {row.label}" if row.previous else row.label
        delta = Text(fmt_signed(row.delta), style="bold yellow" if row.delta else "green")
        table.add_row(name, row.file.rsplit("/", 1)[-1], fmt_count(row.lines), delta)
    return table


class SnapshotsPanel(Panel):
    """The file snapshots taken so far."""

    TITLE = "snapshots Δ lines"
    MIN_ROWS = 3
    WANT_ROWS = 7

    def select(self, snap: Snapshot) -> object:
        return snap.snapshots

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.snapshots)

    def subtitle(self, snap: Snapshot) -> str:
        return f"{len(snap.snapshots)} rows"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_snapshots(snap, height)
