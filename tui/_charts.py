"""A time chart as a Rich renderable: block bars, newest on the right, with event marks.

Pure and width-adaptive: it draws the last ``width`` points of a series at whatever
width Rich gives it, so the same object serves a narrow and a wide terminal, the
Textual panel and a headless ``rich.live`` view. Marks (chaos, gate transitions,
operator actions) sit on a line under the bars at the column of their tick, so cause
and effect are seen together.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

from soakwatch.core.snapshot import Mark, Snapshot

__all__ = ["DEFAULT_TICK_S", "MARK_GLYPHS", "TimeChart", "series_tick", "sparkline"]

#: seconds between series points when the snapshot does not say (the profile's default tick)
DEFAULT_TICK_S = 0.5

_BLOCKS = " ▁▂▃▄▅▆▇█"
#: glyph and style per mark kind (soakwatch.core.snapshot_builder.MARK_KINDS); first listed wins a shared column
MARK_GLYPHS: dict[str, tuple[str, str]] = {
    "chaos": ("▲", "bold magenta"),
    "gate": ("◆", "bold yellow"),
    "op": ("●", "bold cyan"),
}
_MARK_PRIORITY = {kind: i for i, kind in enumerate(MARK_GLYPHS)}


def series_tick(snap: Snapshot) -> float:
    """Seconds between two points of ``snap.series`` (``extra["tick"]`` when the stage sends it)."""
    tick = snap.extra.get("tick")
    return float(tick) if isinstance(tick, int | float) and tick > 0 else DEFAULT_TICK_S


def sparkline(values: Sequence[float], width: int, lo: float | None = None, hi: float | None = None) -> str:
    """A one-line sparkline of the last ``width`` values, scaled to their own range or to ``lo``..``hi``
    (an absolute scale, so a small wobble stays small)."""
    tail = list(values)[-width:] if width > 0 else []
    if not tail:
        return ""
    lo = min(tail) if lo is None else lo
    hi = max(tail) if hi is None else hi
    span = hi - lo
    top = len(_BLOCKS) - 1
    if span <= 0:
        return (_BLOCKS[top // 2] if hi > 0 else _BLOCKS[1]) * len(tail)
    return "".join(_BLOCKS[1 + round(min(1.0, max(0.0, (v - lo) / span)) * (top - 1))] for v in tail)


class TimeChart:
    """Bars of a per-tick series, ``height`` rows tall, plus one row of marks.

    ``end_t`` is the stage time of the newest point and ``tick`` the seconds between
    points, which place each mark at the column of its tick.
    """

    def __init__(
        self,
        values: Sequence[float],
        *,
        height: int = 3,
        style: str = "green",
        marks: Sequence[Mark] = (),
        end_t: float = 0.0,
        tick: float = 0.5,
    ) -> None:
        self.values = list(values)
        self.height = max(1, height)
        self.style = style
        self.marks = list(marks)
        self.end_t = end_t
        self.tick = tick if tick > 0 else 0.5

    def _columns(self, width: int) -> list[float | None]:
        tail = self.values[-width:]
        return [None] * (width - len(tail)) + [float(v) for v in tail]

    def mark_row(self, width: int) -> list[tuple[str, str] | None]:
        """The mark glyph per column (None where there is no mark)."""
        row: list[tuple[str, str] | None] = [None] * width
        kinds: list[int] = [len(MARK_GLYPHS)] * width
        for mark in self.marks:
            back = round((self.end_t - mark.t) / self.tick)
            col = width - 1 - back
            if not 0 <= col < width or mark.kind not in MARK_GLYPHS:
                continue
            prio = _MARK_PRIORITY[mark.kind]
            if prio < kinds[col]:
                kinds[col] = prio
                row[col] = MARK_GLYPHS[mark.kind]
        return row

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        cols = self._columns(width)
        present = [v for v in cols if v is not None]
        top = max(present, default=0.0)
        levels = [0 if v is None or top <= 0 else round(max(0.0, v) / top * self.height * 8) for v in cols]
        bar = Style.parse(self.style)
        for row in range(self.height - 1, -1, -1):
            base = row * 8
            chars = []
            for level in levels:
                fill = level - base
                chars.append(_BLOCKS[8] if fill >= 8 else _BLOCKS[fill] if fill > 0 else " ")
            yield Segment("".join(chars), bar)
            yield Segment.line()
        # the mark row is always there (blank without marks) so the chart keeps its height
        for cell in self.mark_row(width):
            yield Segment(" ") if cell is None else Segment(cell[0], Style.parse(cell[1]))
        yield Segment.line()
