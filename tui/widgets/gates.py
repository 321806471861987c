"""Gates: a live table of condition, observed value and status in colour."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from soakwatch.core.snapshot import GateView, Snapshot
from soakwatch.tui._format import STATUS_STYLES, fmt_observed
from soakwatch.tui.widgets._panel import Panel

__all__ = ["GatesPanel", "render_gates"]

#: below this many columns the gate's name is left out (its condition names the metric)
NAMED_WIDTH = 60


def status_text(gate: GateView) -> Text:
    """The status word in its colour (``fail`` red, ``warn`` yellow, ``pass`` green)."""
    return Text(gate.status.upper(), style=STATUS_STYLES.get(gate.status.lower(), "bold"))


def render_gates(snap: Snapshot, height: int = 6, width: int = 80) -> RenderableType:
    """One row per gate, failing ones first, as many as ``height`` allows; narrow widths
    show the condition without the gate's name (⏹ marks an abort gate)."""
    named = width >= NAMED_WIDTH
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False, header_style="dim", pad_edge=False)
    table.add_column("status", no_wrap=True)
    if named:
        table.add_column("gate", no_wrap=True, overflow="ellipsis", max_width=18)
    table.add_column("condition", no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column("observed", justify="right", no_wrap=True)
    order = {"fail": 0, "failed": 0, "abort": 0, "warn": 1}
    gates = sorted(snap.gates, key=lambda g: order.get(g.status.lower(), 2))
    for g in gates[: max(1, height - 1)]:
        flag = " ⏹" if g.abort else ""
        cells: list[str | Text] = [status_text(g)]
        if named:
            cells.append(Text(g.name + flag, style="bold" if g.severity == "fail" else ""))
            cells.append(g.condition)
        else:
            cells.append(g.condition + flag)
        # an unjudged gate says why instead of a value that was never judged
        table.add_row(*cells, Text(g.why, style="dim") if g.why else fmt_observed(g.observed))
    return table


class GatesPanel(Panel):
    """The gates and their live status."""

    TITLE = "gates"

    def select(self, snap: Snapshot) -> object:
        return (snap.gates, snap.auto_abort)

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.gates)

    def subtitle(self, snap: Snapshot) -> str:
        return "auto-abort on" if snap.auto_abort else "auto-abort OFF"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_gates(snap, height, width)
