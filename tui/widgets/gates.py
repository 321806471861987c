"""Gates: name, subject, condition, observed value with its unit, margin, and an abort mark.

Columns are chosen by priority so that the status, the gate's name and the numbers stay
whole at any width: the margin goes first, then the subject (when the name already says
it), and only then is the condition shortened (it is text; the numbers never are).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from soakwatch.core.snapshot import GateView, Snapshot
from soakwatch.tui._format import STATUS_STYLES, fmt_with_unit
from soakwatch.tui._grid import Cell, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["ABORT_MARK", "GatesPanel", "gate_columns", "render_gates", "status_text"]

#: shown before the name of a gate that stops the stage when it fails (with auto-abort on)
ABORT_MARK = "⏹"
#: statuses in the order a reader wants them: what is wrong first
ORDER = {"fail": 0, "failed": 0, "abort": 0, "warn": 1, "exempt": 2, "pending": 3, "insufficient_data": 3}
#: short words for long statuses, so the status column stays narrow and whole
STATUS_WORDS = {"insufficient_data": "NODATA", "pending": "WAIT"}
#: optional columns, dropped in this order when the width is short
OPTIONAL = ("margin", "subject")


def status_text(gate: GateView) -> Text:
    """The status word in its colour (``fail`` red, ``warn`` yellow, ``pass`` green)."""
    word = STATUS_WORDS.get(gate.status.lower(), gate.status.upper())
    return Text(word, style=STATUS_STYLES.get(gate.status.lower(), "bold"))


def _check(g: GateView) -> str:
    return g.check or g.condition


def _cells(g: GateView) -> dict[str, str]:
    return {
        "status": status_text(g).plain,
        "gate": (ABORT_MARK + " " if g.abort else "") + g.name,
        "subject": g.subject,
        "condition": _check(g),
        # an unjudged gate says so instead of a value that was never judged (its reason is in the verdict)
        "observed": "not judged" if g.why else fmt_with_unit(g.observed, g.unit),
        "margin": fmt_with_unit(g.margin, g.unit, signed=True) if g.margin is not None else "—",
    }


def gate_columns(gates: Sequence[GateView], width: int) -> list[str]:
    """The columns that fit in ``width``: numbers and names first, then margin and subject."""
    rows = [_cells(g) for g in gates]
    need = {c: max([len(c)] + [len(r[c]) for r in rows]) for c in ("status", "gate", "subject", "observed", "margin")}
    need["condition"] = 12  # shortened with an ellipsis below its full width, never below this
    cols = ["status", "gate", "subject", "condition", "observed", "margin"]
    if not any(g.subject for g in gates):
        cols.remove("subject")
    for drop in OPTIONAL:
        if sum(need[c] + 2 for c in cols) - 2 <= width:
            break
        if drop == "subject" and not all(g.subject in g.name for g in gates):
            continue  # the subject is the only place the node is named
        if drop in cols:
            cols.remove(drop)
    return cols


def render_gates(snap: Snapshot, height: int = 6, width: int = 80, skip: int = 0) -> RenderableType:
    """One row per gate, failing ones first, from ``skip`` on, as many as ``height`` allows (then ``+N more``)."""
    ranked = sorted(snap.gates, key=lambda g: ORDER.get(g.status.lower(), 4))
    gates = ranked[min(skip, max(0, len(ranked) - 1)) :]
    cols = gate_columns(gates, width)
    room = max(1, height - 1)
    shown = gates if len(gates) <= room else gates[: room - 1]
    rows: list[list[Cell]] = []
    for g in shown:
        cells = _cells(g)
        row: list[Cell] = []
        for col in cols:
            if col == "status":
                row.append(status_text(g))
            elif col == "gate":
                row.append(Text(cells[col], style="bold" if g.severity == "fail" else ""))
            elif col == "margin":
                bad = g.margin is not None and g.margin < 0
                row.append(Text(cells[col], style="red" if bad else "dim"))
            else:
                row.append(cells[col])
        rows.append(row)
    table = grid(
        rows,
        width,
        header=["on" if c == "subject" else c for c in cols],
        justify=["right" if c in ("observed", "margin") else "left" for c in cols],
        flex=cols.index("condition"),
        gap=2,
    )
    if len(shown) == len(gates):
        return table
    rest = gates[len(shown) :]
    return Group(table, Text(f"+{len(rest)} more gates (z to maximise)", style="dim"))


class GatesPanel(Panel):
    """The gates and their live status."""

    TITLE = "gates"
    WIDE = True

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        return 1 + min(len(snap.gates), 4), 1 + len(snap.gates)

    def select(self, snap: Snapshot) -> object:
        return (snap.gates, snap.auto_abort, self.scroll_rows)

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.gates)

    def subtitle(self, snap: Snapshot) -> str:
        return f"{ABORT_MARK} aborts · auto-abort {'on' if snap.auto_abort else 'OFF'}"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_gates(snap, height, width, self.scroll_rows)
