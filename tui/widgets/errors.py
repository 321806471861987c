"""Errors: counts by kind with the last message of each."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import clip_words, fit_pairs, fmt_count
from soakwatch.tui._grid import Cell, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["ErrorsPanel", "render_errors"]


#: the kind column's widest
KIND_WIDTH = 28


def render_errors(snap: Snapshot, height: int = 6, width: int = 60) -> RenderableType:
    """Totals on top, then one row per error kind (most frequent first) as far as ``height`` allows;
    messages are cut at a word, never inside a number."""
    pairs = [("errors", "err", fmt_count(snap.errors)), ("timeouts", "t/o", fmt_count(snap.timeouts))]
    if snap.calls:
        pairs.append(("of calls", "", f"{(snap.errors + snap.timeouts) / snap.calls:.2%}"))
    head = fit_pairs(pairs, width)
    if not snap.error_kinds:
        return Group(head, Text("no errors so far", style="green"))
    shown = snap.error_kinds[: max(1, height - 1)]
    hidden = len(snap.error_kinds) - len(shown)
    kind_w = min(KIND_WIDTH, max(len(k.kind) for k in shown))
    count_w = max(len(fmt_count(k.count)) for k in shown)
    msg_w = max(0, width - kind_w - count_w - 2)
    rows: list[list[Cell]] = []
    for i, kind in enumerate(shown):
        if hidden and i == len(shown) - 1:
            rows.append([Text(f"+{hidden + 1} more kinds", style="dim")])
            break
        name = kind.kind if len(kind.kind) <= KIND_WIDTH else kind.kind[: KIND_WIDTH - 1] + "…"
        rows.append(
            [Text(name, style="bold"), fmt_count(kind.count), Text(clip_words(kind.last_message, msg_w), style="dim")]
        )
    return Group(head, grid(rows, width, justify=["left", "right", "left"], flex=2))


class ErrorsPanel(Panel):
    """Errors by kind."""

    TITLE = "errors"

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.calls or snap.errors) or not snap.nodes

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        return 1 + min(2, max(1, len(snap.error_kinds))), 1 + max(1, len(snap.error_kinds))

    def select(self, snap: Snapshot) -> object:
        return (snap.errors, snap.timeouts, snap.calls if snap.errors + snap.timeouts else 0, snap.error_kinds)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_errors(snap, height, width)
