"""Panel content as Textual Strips, drawn without Textual's general conversion.

Textual turns a widget's ``render()`` result into Strips on every repaint: a Rich
``Text`` goes through ``Content`` (parsed, wrapped, every cell's style rebuilt with its
offset), any other renderable through the full console protocol. Measured on the demo
in tmux at 160×48, that conversion was the largest part of the UI's CPU. The panels'
content is simpler than what those paths allow for: single-line rows that already fit
their width (the renderers shorten labels, never numbers), so here a ``Text`` is cut
into its styled segments directly (``Text.render``), a ``Group`` part by part, and any
other renderable (the charts) through ``Console.render``; each segment then gets the
widget's base style underneath, as Textual does. Lines longer than the width are cut,
or shortened with ``…`` for a ``Text`` whose ``overflow`` is ``"ellipsis"`` (the
panels' renderers fit every row; a widget whose rows wrap uses Textual's conversion).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

__all__ = ["renderable_strips"]


def _lines(segments: Iterable[Segment], width: int) -> list[tuple[list[Segment], int]]:
    """The segments split at newlines, each line cut to ``width`` cells, with its cell count
    (Rich's ``split_and_crop_lines``, without its per-segment work for lines that fit)."""
    lines: list[list[Segment]] = [[]]
    for text, style, control in segments:
        if control or not text:
            continue
        if "\n" not in text:
            lines[-1].append(Segment(text, style))
            continue
        first, *rest = text.split("\n")
        if first:
            lines[-1].append(Segment(first, style))
        lines.extend([Segment(part, style)] if part else [] for part in rest)
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # a newline at the end opens no row
    out = []
    for line in lines:
        cells = sum(cell_len(seg.text) for seg in line)
        if cells > width:
            line, cells = Segment.adjust_line_length(line, width), width
        out.append((line, cells))
    return out


def _fitted(text: Text, width: int) -> Text:
    """``text`` with each line longer than ``width`` shortened with ``…`` (Rich's ``overflow="ellipsis"``)."""
    if text.overflow != "ellipsis" or all(cell_len(line) <= width for line in text.plain.split("\n")):
        return text
    lines = text.split("\n", allow_blank=True)
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return Text("\n").join(lines)


def _part_lines(
    part: RenderableType, console: Console, options: ConsoleOptions, width: int
) -> list[tuple[list[Segment], int]]:
    if isinstance(part, str):
        part = Text(part)
    if isinstance(part, Text):  # an empty Text is one blank row, as Rich renders it
        return _lines(_fitted(part, width).render(console, end=""), width)
    return _lines(console.render(part, options), width)


def renderable_strips(
    renderable: RenderableType, console: Console, options: ConsoleOptions, width: int, height: int, base: Style
) -> list[Strip]:
    """At most ``height`` rows of ``renderable`` cut to ``width`` cells, each segment on ``base``."""
    parts = renderable.renderables if isinstance(renderable, Group) else [renderable]
    options = options.update(width=width, height=height, highlight=False)
    add = base.__add__
    strips: list[Strip] = []
    for part in parts:
        for line, cells in _part_lines(part, console, options, width):
            if len(strips) == height:
                return strips
            strips.append(Strip([Segment(text, add(style), None) for text, style, _ in line], cells))
    return strips
