"""Snapshots: the Δ lines of each watched file between snapshots, newest first."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import fmt_count, fmt_signed
from soakwatch.tui._grid import Cell, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["SnapshotsPanel", "render_snapshots"]


def render_snapshots(snap: Snapshot, height: int = 6, width: int = 60, skip: int = 0) -> RenderableType:
    """``previous → label  file  lines  Δ`` rows, newest first (from ``skip``), as many as ``height`` allows."""
    ranked = sorted(snap.snapshots, key=lambda r: (r.calls, r.t), reverse=True)
    rows: list[list[Cell]] = []
    for row in ranked[skip : skip + max(1, height - 1)]:
        name = f"{row.previous} → {row.label}" if row.previous else row.label
        delta = Text(fmt_signed(row.delta), style="bold yellow" if row.delta else "green")
        if row.note:  # soakwatch truncated the file in this interval: shown, not judged
            delta = Text(f"{fmt_signed(row.delta)} ✂{row.removed}", style="dim")
        rows.append([name, row.file.rsplit("/", 1)[-1], fmt_count(row.lines), delta])
    header = ["snapshot", "file", "lines", "Δ"]
    return grid(rows, width, header=header, justify=["left", "left", "right", "right"], flex=0, gap=2)


class SnapshotsPanel(Panel):
    """The file snapshots taken so far."""

    TITLE = "snapshots Δ lines"
    MIN_ROWS = 3
    WANT_ROWS = 7

    def select(self, snap: Snapshot) -> object:
        return (snap.snapshots, self.scroll_rows)

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.snapshots)

    def subtitle(self, snap: Snapshot) -> str:
        return f"{len(snap.snapshots)} rows"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_snapshots(snap, height, width, self.scroll_rows)
