"""Which panels fit the terminal, and how tall each row is: a pure planner.

Every panel states the rows it needs to show its numbers whole (``min_rows``) and the
rows it could use (``want_rows``). The planner takes panels in priority order (those
the operator switched on with 1–9 first), keeps each one whose rows still fit the
body's height, and lists the others for the one-line ``more: …`` hint. Panels keep
their screen order (the grid fills in DOM order); a wide panel (gates, nodes, events,
output) spans two columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Need", "Plan", "columns_for", "plan"]

#: terminal widths at which the grid gets a third and a fourth column
THREE_COLUMNS = 120
FOUR_COLUMNS = 200


@dataclass(frozen=True)
class Need:
    """What one panel asks of the layout."""

    id: str
    min_rows: int
    want_rows: int
    wide: bool = False
    pinned: bool = False


@dataclass(frozen=True)
class Plan:
    """Rows of panel ids (screen order), each row's height, and what did not fit."""

    rows: tuple[tuple[str, ...], ...]
    heights: tuple[int, ...]
    spans: dict[str, int]
    more: tuple[str, ...]

    @property
    def shown(self) -> set[str]:
        return {pid for row in self.rows for pid in row}


def columns_for(width: int) -> int:
    """Grid columns for a terminal ``width``."""
    return 4 if width >= FOUR_COLUMNS else 3 if width >= THREE_COLUMNS else 2


def _pack(needs: Sequence[Need], cols: int) -> list[list[Need]]:
    """First fit: each panel goes into the first row with room for its span."""
    rows: list[list[Need]] = []
    free: list[int] = []
    for n in needs:
        span = min(cols, 2) if n.wide else 1
        for i, room in enumerate(free):
            if room >= span:
                rows[i].append(n)
                free[i] -= span
                break
        else:
            rows.append([n])
            free.append(cols - span)
    return rows


def _height(rows: list[list[Need]]) -> int:
    return sum(max(m.min_rows for m in row) for row in rows)


def plan(needs: Sequence[Need], width: int, height: int) -> Plan:
    """Place ``needs`` (in priority order; pinned ones go first) into ``height`` rows."""
    cols = columns_for(width)
    order = sorted(needs, key=lambda n: not n.pinned)
    chosen: list[Need] = []
    for n in order:
        if _height(_pack([*chosen, n], cols)) <= height:
            chosen.append(n)
    rows = _pack(chosen, cols)
    mins = [max(m.min_rows for m in row) for row in rows]
    wants = [max(m.want_rows for m in row) for row in rows]
    heights = list(mins)
    spare = height - sum(mins)
    # first up to what each row wants, then whatever is left to the row that wants the most
    while spare > 0 and any(h < w for h, w in zip(heights, wants, strict=True)):
        for i in range(len(heights)):
            if spare > 0 and heights[i] < wants[i]:
                heights[i] += 1
                spare -= 1
    if heights and spare > 0:
        heights[max(range(len(heights)), key=lambda i: wants[i])] += spare
    spans: dict[str, int] = {}
    for row in rows:
        room = cols
        for n in row:
            spans[n.id] = min(cols, 2) if n.wide else 1
            room -= spans[n.id]
        spans[row[-1].id] += room  # the last panel of a row fills it, so no hole is left
    placed = {n.id for n in chosen}
    return Plan(
        rows=tuple(tuple(n.id for n in row) for row in rows),
        heights=tuple(heights),
        spans=spans,
        more=tuple(n.id for n in needs if n.id not in placed),
    )
