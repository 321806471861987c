"""Columns of text as one Rich ``Text``: what the panels use instead of ``rich.table.Table``.

A Table measures and renders every cell through the full console protocol on each
redraw; for the panels' small, single-line cells that costs several milliseconds a
panel. Here the widths are the cells' own lengths, one flexible column takes the spare
room (or gives it back, shortened with ``…``: it is always a text column, never a
number), and each row is one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rich.text import Text

__all__ = ["Cell", "grid"]

Cell = str | Text
Justify = Literal["left", "right"]


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def grid(
    rows: Sequence[Sequence[Cell]],
    width: int,
    *,
    justify: Sequence[Justify] = (),
    flex: int | None = None,
    header: Sequence[str] | None = None,
    gap: int = 1,
) -> Text:
    """``rows`` as aligned columns ``width`` cells wide; column ``flex`` grows or shrinks to fit."""
    cells = [[_text(c) for c in row] for row in rows]
    if header is not None:
        cells.insert(0, [Text(h, style="dim") for h in header])
    if not cells:
        return Text()
    ncols = max(len(r) for r in cells)
    widths = [max((r[i].cell_len for r in cells if i < len(r)), default=0) for i in range(ncols)]
    spare = width - (sum(widths) + gap * (ncols - 1))
    if flex is not None and flex < ncols:
        widths[flex] = max(1, widths[flex] + spare)
    out = Text(no_wrap=True, overflow="crop")
    pad = " " * gap
    for n, row in enumerate(cells):
        if n:
            out.append("\n")
        for i in range(ncols):
            cell = row[i] if i < len(row) else Text()
            w = widths[i]
            if cell.cell_len > w:
                cell = cell.copy()
                cell.truncate(w, overflow="ellipsis")
            side: Justify = justify[i] if i < len(justify) else "left"
            fill = " " * (w - cell.cell_len)
            if side == "right":
                out.append(fill)
                out.append_text(cell)
            else:
                out.append_text(cell)
                if i < ncols - 1:
                    out.append(fill)
            if i < ncols - 1:
                out.append(pad)
    return out
