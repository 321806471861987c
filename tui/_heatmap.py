"""The latency heatmap: time × latency bucket, one column per tick (newest on the right).

Rows are the buckets of :data:`~soakwatch.config.constants.LATENCY_HEAT_EDGES_MS` (a 1-2-5
log scale, the slowest at the top), limited to those that held calls in the shown ticks
(merged in pairs, fours... when they do not fit the height). A cell's shade and colour
say how many calls of that tick ended in that bucket, on a log scale of the busiest
cell, so a tail of a few slow calls shows next to thousands of fast ones. The marks row
(chaos, gate, operator) is the charts' own.

    20ms ┤      ░░▒▒░       <- calls that took 20-50 ms in each tick
     5ms ┤▓▓▓▓▓▓▓▓▓▓▓▓███
     2ms ┤█████▓▓▓▓▓▓▓▓▓▓
          ▲        ◆
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

from soakwatch.config.constants import LATENCY_HEAT_EDGES_MS
from soakwatch.core.snapshot import Mark
from soakwatch.tui._charts import TimeChart

__all__ = ["SHADES", "HeatMap", "bucket_label"]

#: shade and colour per level, from a single call to the busiest cell
SHADES: tuple[tuple[str, str], ...] = (("░", "blue"), ("▒", "cyan"), ("▓", "yellow"), ("█", "bold red"))


def _ms(v: float) -> str:
    return f"{v / 1000:g}s" if v >= 1000 else f"{v:g}ms"


def bucket_label(i: int) -> str:
    """The lower edge of bucket ``i`` (bucket 0 starts at 0)."""
    return "0" if i == 0 else _ms(float(LATENCY_HEAT_EDGES_MS[i - 1]))


class HeatMap:
    """Per-tick latency bucket counts as a heatmap ``height`` rows tall (the last one holds the marks)."""

    def __init__(
        self,
        rows: Sequence[Sequence[int]],
        *,
        height: int = 6,
        marks: Sequence[Mark] = (),
        end_t: float = 0.0,
        tick: float = 0.5,
    ) -> None:
        self.rows = [list(r) for r in rows]
        self.height = max(2, height)
        self.marks = list(marks)
        self.end_t = end_t
        self.tick = tick if tick > 0 else 0.5

    def _grid(self, cols: list[list[int]], plot_rows: int) -> tuple[list[int], list[list[int]]]:
        """The first bucket of each shown row (bottom first) and the counts per row and column."""
        used = {b for col in cols for b, c in enumerate(col) if c}
        lo, hi = min(used), max(used)
        group = max(1, math.ceil((hi - lo + 1) / plot_rows))
        starts = list(range(lo, hi + 1, group))
        grid = [[sum(col[b] for b in range(s, s + group) if b < len(col)) for col in cols] for s in starts]
        return starts, grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(8, options.max_width)
        plot_rows = self.height - 1
        gutter = max(len(bucket_label(i)) for i in range(len(LATENCY_HEAT_EDGES_MS) + 1)) + 1
        plot_w = max(2, width - gutter - 1)
        cols = self.rows[-plot_w:]
        cols = [[] for _ in range(plot_w - len(cols))] + cols
        axis = Style.parse("dim")
        if not any(c for col in cols for c in col):
            yield Segment(" " * (gutter + 1) + "no calls ended in these ticks", axis)
            yield Segment.line()
            return
        starts, grid = self._grid(cols, plot_rows)
        top = max(c for row in grid for c in row)
        styles = [Style.parse(style) for _, style in SHADES]
        for r in range(plot_rows - 1, -1, -1):
            if r >= len(starts):
                yield Segment(" " * gutter + "│", axis)
                yield Segment.line()
                continue
            yield Segment(bucket_label(starts[r]).rjust(gutter - 1) + " ┤", axis)
            yield from _runs(grid[r], top, styles)
            yield Segment.line()
        yield Segment(" " * (gutter + 1))
        for cell in TimeChart([], marks=self.marks, end_t=self.end_t, tick=self.tick).mark_row(plot_w):
            yield Segment(" ") if cell is None else Segment(cell[0], Style.parse(cell[1]))
        yield Segment.line()


def _runs(counts: list[int], top: int, styles: list[Style]) -> list[Segment]:
    """One row of cells as segments, a segment per run of the same level (-1: empty)."""
    segs: list[Segment] = []
    scale = math.log1p(top)
    prev, run = -2, 0
    for c in [*counts, -1]:
        level = -1 if c <= 0 else min(len(SHADES) - 1, int(math.log1p(c) / scale * len(SHADES)))
        if c == -1 or (level != prev and run):
            if run:
                segs.append(Segment(" " * run) if prev < 0 else Segment(SHADES[prev][0] * run, styles[prev]))
            run = 0
        prev = level
        run += 1
    return segs
