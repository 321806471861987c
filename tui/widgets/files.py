"""Watched files: size, lines, growth since the start, size warnings and bad reads."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from soakwatch.core.snapshot import FileView, Snapshot
from soakwatch.tui._format import fmt_bytes, fmt_count, fmt_signed
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
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False, header_style="dim", pad_edge=False)
    table.add_column("file", no_wrap=True, overflow="ellipsis", ratio=1, min_width=8)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("lines", justify="right", no_wrap=True)
    if full:
        table.add_column("growth", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for f in snap.files[: max(1, height - 1)]:
        name = f.path if full else f.path.rsplit("/", 1)[-1]
        cells: list[str | Text] = [name, fmt_bytes(f.size), fmt_count(f.lines)]
        if full:
            cells.append(fmt_signed(f.growth_lines))
        cells.append(_flags(f))
        table.add_row(*cells, style="yellow" if f.over_warn else "")
    return table


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
