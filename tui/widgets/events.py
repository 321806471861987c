"""Events: chaos, truncations, resets, gate transitions, operator actions, as they happen.

Each snapshot carries only the events new since the previous one; the app keeps a
bounded list of the recent ones (``recent_events``) and binds it here.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive

from soakwatch.core.snapshot import EventView, Snapshot
from soakwatch.tui._format import LEVEL_STYLES, fmt_duration
from soakwatch.tui.widgets._panel import Panel

__all__ = ["KIND_STYLES", "EventsPanel", "render_events"]

#: colours per event kind, matching the chart marks (chaos magenta, gates yellow, operator cyan)
KIND_STYLES: dict[str, str] = {
    "chaos_start": "bold magenta",
    "chaos_end": "magenta",
    "gate": "bold yellow",
    "gate_final": "bold yellow",
    "operator": "bold cyan",
    "abort": "bold red",
    "truncate": "blue",
    "reset": "blue",
    "backup": "blue",
    "snapshot": "green",
    "size_warning": "yellow",
    "stage_start": "bold",
    "stage_end": "bold",
}


def render_events(events: Sequence[EventView], height: int = 6) -> RenderableType:
    """The newest ``height`` events, oldest at the top, like a log."""
    if not events:
        return Text("no events yet", style="dim")
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(justify="right", style="dim", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    for ev in list(events)[-max(1, height) :]:
        style = KIND_STYLES.get(ev.kind, "")
        table.add_row(
            fmt_duration(ev.t), Text(ev.kind, style=style), Text(ev.message, style=LEVEL_STYLES.get(ev.level, ""))
        )
    return table


class EventsPanel(Panel):
    """The recent events."""

    TITLE = "events"
    COLLAPSIBLE = False

    recent_events: reactive[tuple[EventView, ...]] = reactive((), repaint=False, init=False)

    def select(self, snap: Snapshot) -> object:
        return self.recent_events[-1].seq if self.recent_events else None

    def subtitle(self, snap: Snapshot) -> str:
        return f"{len(self.recent_events)} shown"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_events(self.recent_events, height)
