"""Nodes: one row per supervised node: state, restarts, report age, report fields, RSS.

A node that is down shows ``DEAD`` and no RSS (its last sample is not its memory any
more); report fields keep their last value, dimmed once the report is stale.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from soakwatch.core.snapshot import NodeView, Snapshot
from soakwatch.tui._format import fmt_count, fmt_duration
from soakwatch.tui._grid import Cell, Justify, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["NodesPanel", "render_nodes"]

#: state word and colour per node state (soakwatch.nodes.process.NodeState)
STATES: dict[str, tuple[str, str]] = {
    "new": ("STARTING", "dim"),
    "running": ("ALIVE", "bold green"),
    "paused": ("PAUSED", "bold yellow"),
    "down": ("DEAD", "bold white on red3"),
    "stopped": ("STOPPED", "dim"),
    "gave_up": ("GAVE UP", "bold white on red3"),
}
#: a report older than this is shown as stale (yellow)
STALE_S = 5.0
#: cells between two columns
GAP = 2


def _fmt_field(v: float) -> str:
    return fmt_count(v) if float(v).is_integer() else f"{v:,.3g}"


def _fields(nodes: list[NodeView], width: int) -> list[str]:
    """The report fields that fit after the fixed columns (node, state, restarts, report age,
    rss), in the profile's order: a field is left out rather than any column cut."""
    names: list[str] = []
    for n in nodes:
        names.extend(f for f in n.fields if f not in names)
    id_w = max((len(n.id) for n in nodes), default=4)
    room = width - (max(id_w, 4) + len("GAVE UP") + len("restarts") + len("99m59s ago") + len("rss MB") + 4 * GAP)
    kept: list[str] = []
    for name in names:
        values = [len(_fmt_field(v)) for n in nodes if (v := n.fields.get(name)) is not None]
        room -= max([len(name), *values]) + GAP
        if room < 0:
            break
        kept.append(name)
    return kept


def render_nodes(snap: Snapshot, height: int = 6, width: int = 80, skip: int = 0) -> RenderableType:
    """One row per node from ``skip`` on, as many as ``height`` allows."""
    fields = _fields(snap.nodes, width)
    rows: list[list[Cell]] = []
    for n in snap.nodes[skip : skip + max(1, height - 1)]:
        word, style = STATES.get(n.state, (n.state.upper(), "bold"))
        age = n.report_age_s
        stale = age is not None and age > STALE_S
        age_text = Text("—" if age is None else fmt_duration(age) + " ago", style="yellow" if stale else "")
        cells: list[Cell] = [Text(n.id, style="bold"), Text(word, style=style), str(n.restarts), age_text]
        for f in fields:
            value = n.fields.get(f)
            cells.append(Text("—" if value is None else _fmt_field(value), style="dim" if stale else ""))
        cells.append("—" if n.rss_mb is None else f"{n.rss_mb:,.1f}")
        rows.append(cells)
    header = ["node", "state", "restarts", "report", *fields, "rss MB"]
    justify: list[Justify] = ["left", "left", "right", "right"]
    justify += ["right"] * (len(fields) + 1)
    return grid(rows, width, header=header, justify=justify, gap=GAP)


class NodesPanel(Panel):
    """The topology's nodes."""

    TITLE = "nodes"
    WIDE = True

    def select(self, snap: Snapshot) -> object:
        return (snap.nodes, self.scroll_rows)

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.nodes)

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        return min(len(snap.nodes), 3) + 1, len(snap.nodes) + 1

    def subtitle(self, snap: Snapshot) -> str:
        alive = sum(1 for n in snap.nodes if n.state in ("running", "paused"))
        return f"{alive}/{len(snap.nodes)} up"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_nodes(snap, height, width, self.scroll_rows)
