"""Errors: counts by kind with the last message of each."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import fmt_count
from soakwatch.tui.widgets._panel import Panel

__all__ = ["ErrorsPanel", "render_errors"]


def render_errors(snap: Snapshot, height: int = 6) -> RenderableType:
    """Totals on top, then one row per error kind (most frequent first) as far as ``height`` allows."""
    failed = snap.errors + snap.timeouts
    ratio = f" ({failed / snap.calls:.2%})" if snap.calls else ""
    head = Text.assemble(
        ("errors ", "dim"),
        (fmt_count(snap.errors), "bold red" if snap.errors else "bold green"),
        ("  timeouts ", "dim"),
        (fmt_count(snap.timeouts), "bold red" if snap.timeouts else "bold green"),
        (ratio, "dim"),
        no_wrap=True,
        overflow="ellipsis",
    )
    if not snap.error_kinds:
        return Group(head, Text("no errors so far", style="green"))
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="bold", no_wrap=True, max_width=28, overflow="ellipsis")
    table.add_column(justify="right", no_wrap=True)
    table.add_column(style="dim", no_wrap=True, overflow="ellipsis", ratio=1)
    shown = snap.error_kinds[: max(1, height - 1)]
    hidden = len(snap.error_kinds) - len(shown)
    for i, kind in enumerate(shown):
        if hidden and i == len(shown) - 1:
            table.add_row(Text(f"+{hidden + 1} more kinds", style="dim"), "", "")
            break
        table.add_row(kind.kind, fmt_count(kind.count), kind.last_message)
    return Group(head, table)


class ErrorsPanel(Panel):
    """Errors by kind."""

    TITLE = "errors"
    COLLAPSIBLE = False

    def select(self, snap: Snapshot) -> object:
        return (snap.errors, snap.timeouts, snap.calls if snap.errors + snap.timeouts else 0, snap.error_kinds)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_errors(snap, height)
