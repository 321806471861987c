"""Watched files: size, lines, growth since the start, size warnings and bad reads."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from soakwatch.core.snapshot import FileView, Snapshot
from soakwatch.tui._format import fmt_bytes, fmt_count, fmt_signed
from soakwatch.tui._grid import Cell, Justify, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["FilesPanel", "render_files"]

#: below this many columns the growth column is left out
FULL_WIDTH = 56


def _flags(f: FileView) -> Text:
    if not f.exists:
        return Text("missing", style="bold red")
    parts: list[tuple[str, str]] = []
    if f.over_warn:
        parts.append(("big", "bold yellow"))
    if f.json_ok is False:
        parts.append(("bad JSON", "bold red"))
    if f.corrupt_reads:
        parts.append((f"{f.corrupt_reads} bad reads", "red"))
    if not parts:
        return Text("ok", style="green")
    return Text(" ").join(Text(t, style=s) for t, s in parts)


def render_files(snap: Snapshot, height: int = 6, width: int = 80) -> RenderableType:
    """One row per watched file, as many as ``height`` allows; narrow widths drop the growth column."""
    full = width >= FULL_WIDTH
    rows: list[list[Cell]] = []
    for f in snap.files[: max(1, height - 1)]:
        name = f.path if full else f.path.rsplit("/", 1)[-1]
        style = "yellow" if f.over_warn else ""
        cells: list[Cell] = [Text(name, style=style), Text(fmt_bytes(f.size), style), Text(fmt_count(f.lines), style)]
        if full:
            cells.append(Text(fmt_signed(f.growth_lines), style=style))
        cells.append(_flags(f))
        rows.append(cells)
    header = ["file", "size", "lines", *(["growth"] if full else []), ""]
    growth_col: list[Justify] = ["right"] if full else []
    justify: list[Justify] = ["left", "right", "right", *growth_col, "left"]
    return grid(rows, width, header=header, justify=justify, flex=0)


class FilesPanel(Panel):
    """The watched files."""

    TITLE = "watched files"

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        return 1 + min(len(snap.files), 2), 1 + len(snap.files)

    def select(self, snap: Snapshot) -> object:
        return snap.files

    def has_content(self, snap: Snapshot) -> bool:
        return bool(snap.files)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_files(snap, height, width)
