"""Endpoints: one row per endpoint of a request mix (``[[http.requests]]``): calls, share, errors, p50/p95.

The same figures as the report's "Endpoints" section, live: calls and errors as the HTTP runner
counts them (a chaos-injected error counts against the endpoint of its call), latency over the
whole run. The panel collapses for a stage with one endpoint or none.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from soakwatch.core.snapshot import EndpointView, Snapshot
from soakwatch.tui._format import fmt_count, fmt_ms
from soakwatch.tui._grid import Cell, Justify, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["EndpointsPanel", "render_endpoints"]

#: the columns after the name, dropped from the right while the panel is too narrow for them
COLUMNS = ("calls", "share", "errors", "p50", "p95")
#: the name column keeps at least this many cells (a longer name is cut with …, never a number)
NAME_MIN = 6


def _cells(e: EndpointView, total: int) -> list[Cell]:
    share = f"{e.calls / total:.1%}" if total else "—"
    err = Text(fmt_count(e.errors), style="bold red" if e.errors else "")
    return [fmt_count(e.calls), share, err, fmt_ms(e.p50_ms), fmt_ms(e.p95_ms)]


def _len(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else Text(cell).cell_len


def _fit(rows: list[list[Cell]], width: int) -> int:
    """How many of :data:`COLUMNS` fit beside the name at ``width`` cells."""
    widths = [max([len(c), *(_len(r[i]) for r in rows)]) for i, c in enumerate(COLUMNS)]
    n = len(COLUMNS)
    while n > 1 and NAME_MIN + sum(widths[:n]) + n > width:
        n -= 1
    return n


def render_endpoints(snap: Snapshot, height: int = 6, width: int = 60) -> RenderableType:
    """A header and one row per endpoint (as far as ``height`` allows); columns that do not fit are
    left out from the right (p95 first), so no number is ever cut."""
    eps = snap.endpoints
    if not eps:
        return Text("no request mix in this stage", style="dim")
    total = sum(e.calls for e in eps)
    shown = eps[: max(1, height - 1)]
    body = [_cells(e, total) for e in shown]
    n = _fit(body, width)
    rows: list[list[Cell]] = [[Text(e.name, style="bold"), *cells[:n]] for e, cells in zip(shown, body, strict=True)]
    if len(shown) < len(eps):
        rows[-1] = [Text(f"+{len(eps) - len(shown) + 1} more", style="dim")]
    right: list[Justify] = ["right"] * n
    justify: list[Justify] = ["left", *right]
    return grid(rows, width, justify=justify, flex=0, header=["endpoint", *COLUMNS[:n]])


class EndpointsPanel(Panel):
    """Per-endpoint calls, share, errors and latency of a request mix."""

    TITLE = "endpoints"
    MIN_ROWS = 3
    #: two grid columns: name, calls, share, errors, p50 and p95 need about 50 cells
    WIDE = True

    def has_content(self, snap: Snapshot) -> bool:
        return len(snap.endpoints) > 1

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        n = len(snap.endpoints)
        return 1 + min(3, max(1, n)), 1 + max(1, n)  # a mix of three shows whole at its least

    def select(self, snap: Snapshot) -> object:
        return snap.endpoints

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_endpoints(snap, height, width)
