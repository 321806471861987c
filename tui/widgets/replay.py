"""The replay bar: where the time cursor stands in a recorded run, and the keys that move it."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import fmt_duration

__all__ = ["ReplayBar", "render_replay"]

KEYS_HINT = "←/→ step · shift ×10 · home/end"


def _cursor(snap: Snapshot | None) -> dict[str, Any] | None:
    info = snap.extra.get("replay") if snap is not None else None
    return info if isinstance(info, dict) else None


def render_replay(snap: Snapshot | None) -> RenderableType:
    """One line: REPLAY, the cursor's time of the run's length, the row, a position bar, the keys."""
    info = _cursor(snap)
    if info is None:
        return Text.assemble((" REPLAY ", "reverse bold"), ("  reading the run directory…", "dim"))
    rows = int(info.get("rows", 0))
    index = int(info.get("index", 0))
    t, t_end = float(info.get("t", 0.0)), float(info.get("t_end", 0.0))
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_column(no_wrap=True, justify="right")
    where = Text.assemble(
        (" REPLAY ", "reverse bold"),
        ("  t ", "dim"),
        (fmt_duration(t), "bold"),
        (" / ", "dim"),
        (fmt_duration(t_end), ""),
        ("  row ", "dim"),
        (f"{index + 1}/{rows}", "bold"),
        ("  end of run" if info.get("complete") else "", "bold"),
    )
    bar = ProgressBar(total=max(1, rows - 1), completed=index, complete_style="cyan", finished_style="cyan")
    grid.add_row(where, bar, Text(KEYS_HINT, style="dim"))
    return grid


class ReplayBar(Widget):
    """Shown only when the app replays a recorded run."""

    DEFAULT_CSS = """
    ReplayBar { height: 1; padding: 0 1; background: $panel; }
    """

    snapshot: reactive[Snapshot | None] = reactive(None, init=False)

    def render(self) -> RenderableType:
        return render_replay(self.snapshot)
