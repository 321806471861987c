"""A line chart in braille dots with a y-axis scale and a time axis, as a Rich renderable.

Why our own renderer and not textual-plotext: plotext redraws its whole canvas on every
refresh and is one more dependency; this one only maps the visible points to dots (two
per column, four per row) and is called only when a panel's data changed (the cost per
chart is measured in bench/bench_charts.py).

Layout, ``height`` rows in all::

    40/s ┤⠀⠀⡠⠤⠤⣀⠀⠀⠀⡠⠔⠒⠒⠤⡀   <- plot rows, scale labels on the left (top, middle, 0)
       0 ┤⠤⠊⠀⠀⠀⠀⠈⠒⠊⠀⠀⠀⠀⠀⠈
         -60s   -30s     now  <- time axis (left out when the chart is short)
         ▲      ◆             <- marks: chaos, gate, operator (always there)

The scale starts at ``floor`` (0 for rates, latencies and memory: an absolute scale,
so 22.6 → 23.1 MB reads as flat). When one burst would flatten the rest, the scale
follows the 90th percentile and clipped columns show ``↑`` on the top row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

from soakwatch.core.snapshot import Mark
from soakwatch.tui._charts import TimeChart

__all__ = ["LineChart", "nice_ceiling"]

#: dot bits of a braille cell, [column][row from the top]
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_BRAILLE = 0x2800
#: a burst this many times the 90th percentile gets clipped instead of setting the scale
CLIP_FACTOR = 3.0
#: rows a chart needs before it also gets a time axis
TIME_AXIS_MIN_ROWS = 4
#: seconds between time-axis labels, the first that leaves AXIS_LABEL_GAP columns between them
AXIS_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
AXIS_LABEL_GAP = 9


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value`` (a scale's top)."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        top = float(step * 10**exp)
        if top >= value * (1 - 1e-9):
            return top
    return float(10.0 ** (exp + 1))  # pragma: no cover - the loop ends at 10


def _top(values: Sequence[float]) -> tuple[float, bool]:
    """The scale's top and whether the biggest values are clipped."""
    if not values:
        return 1.0, False
    hi = max(values)
    ranked = sorted(values)
    p90 = ranked[int(0.9 * (len(ranked) - 1))]
    if p90 > 0 and hi > CLIP_FACTOR * p90:
        return nice_ceiling(p90 * 1.5), True
    return nice_ceiling(hi), False


def _time_label(seconds: float) -> str:
    s = round(seconds)
    return f"-{s // 60}m" if s >= 120 and s % 60 == 0 else f"-{s}s"


class LineChart:
    """A braille line chart of a per-tick series (newest on the right), with its scales and marks."""

    def __init__(
        self,
        values: Sequence[float],
        *,
        height: int = 5,
        style: str = "green",
        marks: Sequence[Mark] = (),
        end_t: float = 0.0,
        tick: float = 0.5,
        fmt: Callable[[float], str] = lambda v: f"{v:g}",
        floor: float = 0.0,
        time_axis: bool = True,
        overlay: Sequence[float] = (),
        overlay_style: str = "yellow",
    ) -> None:
        self.values = [float(v) for v in values if not math.isnan(v)]
        #: a second line drawn under the first, point for point (the memory chart's fitted slope)
        self.overlay = [float(v) for v in overlay if not math.isnan(v)]
        self.overlay_style = overlay_style
        self.height = max(2, height)
        self.style = style
        self.marks = list(marks)
        self.end_t = end_t
        self.tick = tick if tick > 0 else 0.5
        self.fmt = fmt
        self.floor = floor
        self.time_axis = time_axis

    def _labels(self, rows: int, top: float) -> list[str]:
        labels = [""] * rows
        labels[0] = self.fmt(top)
        labels[-1] = self.fmt(self.floor)
        if rows >= 5:
            mid = rows // 2
            value = self.floor + (top - self.floor) * (rows - 1 - mid) / (rows - 1)
            labels[mid] = self.fmt(float(f"{value:.2g}"))
        return labels

    def _plot(self, width: int, rows: int, top: float) -> tuple[list[str], list[bool]]:
        """Braille rows (top first) and, per column, whether a point there is clipped."""
        cells, clipped = self._cells(self.values, width, rows, top)
        return ["".join(chr(_BRAILLE + c) if c else " " for c in line) for line in cells], clipped

    def _cells(self, values: list[float], width: int, rows: int, top: float) -> tuple[list[list[int]], list[bool]]:
        """The dot bits of each cell (top row first) and, per column, whether a point there is clipped."""
        dots_y = rows * 4
        tail = values[-2 * width :]
        offset = 2 * width - len(tail)  # the newest point sits on the rightmost dot column
        cells = [[0] * width for _ in range(rows)]
        clipped = [False] * width
        span = max(top - self.floor, 1e-12)
        prev: int | None = None
        for i, v in enumerate(tail):
            x = offset + i
            level = (v - self.floor) / span
            if level > 1:
                clipped[x // 2] = True
            y = min(dots_y - 1, max(0, round(level * (dots_y - 1))))
            lo, hi = (y, y) if prev is None else (min(prev, y), max(prev, y))
            for yy in range(lo, hi + 1):
                row = dots_y - 1 - yy
                cells[row // 4][x // 2] |= _DOTS[x % 2][row % 4]
            prev = y
        return cells, clipped

    def _overlaid(self, width: int, rows: int, top: float) -> list[list[Segment]]:
        """Each row's segments: the cells the overlay passes through in its style (drawn over the
        line), the others in the line's."""
        main, _ = self._cells(self.values, width, rows, top)
        over, _ = self._cells([min(v, top) for v in self.overlay], width, rows, top)
        styles = (Style.parse(self.style), Style.parse(self.overlay_style))
        out = []
        for m_row, o_row in zip(main, over, strict=True):
            segs: list[Segment] = []
            run: list[str] = []
            kind = 0
            for m, o in zip(m_row, o_row, strict=True):
                k = 1 if o else 0  # the line is drawn over the points
                if k != kind and run:
                    segs.append(Segment("".join(run), styles[kind]))
                    run = []
                kind = k
                run.append(chr(_BRAILLE + (m | o)) if m or o else " ")
            segs.append(Segment("".join(run), styles[kind]))
            out.append(segs)
        return out

    def _time_axis(self, width: int) -> str:
        """``-60s   -30s   now`` under the plot, labels on round numbers of seconds."""
        axis = [" "] * width
        per_col = 2 * self.tick
        axis[width - 3 :] = "now"
        step = next((s for s in AXIS_STEPS_S if s / per_col >= AXIS_LABEL_GAP), AXIS_STEPS_S[-1])
        back = step
        while True:
            col = width - 1 - round(back / per_col)
            text = _time_label(back)
            start = col - len(text) + 1
            if start < 0:
                break
            if all(c == " " for c in axis[start : col + 2]):
                axis[start : col + 1] = text
            back += step
        return "".join(axis)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(4, options.max_width)
        rows = self.height - 1
        with_axis = self.time_axis and rows >= TIME_AXIS_MIN_ROWS
        if with_axis:
            rows -= 1
        top, _ = _top(self.values)
        top = max(top, self.floor + 1e-9)
        labels = self._labels(rows, top)
        gutter = max(len(label) for label in labels) + 1
        plot_w = max(2, width - gutter - 1)
        lines, clipped = self._plot(plot_w, rows, top)
        overlaid = self._overlaid(plot_w, rows, top) if self.overlay else None
        axis_style = Style.parse("dim")
        line_style = Style.parse(self.style)
        for r, line in enumerate(lines):
            yield Segment(labels[r].rjust(gutter - 1) + " ", axis_style)
            yield Segment("┤" if labels[r] else "│", axis_style)
            if overlaid is not None:
                yield from overlaid[r]
            elif r == 0 and any(clipped):
                for ch, clip in zip(line, clipped, strict=True):
                    yield Segment("↑", Style.parse("bold red")) if clip else Segment(ch, line_style)
            else:
                yield Segment(line, line_style)
            yield Segment.line()
        pad = " " * (gutter + 1)
        if with_axis:
            yield Segment(pad + self._time_axis(plot_w), axis_style)
            yield Segment.line()
        yield Segment(pad)
        marks = TimeChart([], marks=self.marks, end_t=self.end_t, tick=2 * self.tick).mark_row(plot_w)
        for cell in marks:
            yield Segment(" ") if cell is None else Segment(cell[0], Style.parse(cell[1]))
        yield Segment.line()
