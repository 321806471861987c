"""Events: chaos, truncations, resets, gate transitions, operator actions, as they happen.

Each snapshot carries only the events new since the previous one; the app keeps every
event of the run (bounded by MAX_EVENTS) and binds them here. Per-call errors and
per-tick error tallies are folded into one line per error kind per ERROR_FOLD_S.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive

from soakwatch.core.snapshot import EventView, Snapshot
from soakwatch.tui._format import LEVEL_STYLES, clip_words, fmt_duration
from soakwatch.tui._grid import Cell, grid
from soakwatch.tui.widgets._panel import Panel

__all__ = ["FILTERS", "KIND_STYLES", "EventFold", "EventsPanel", "fold", "render_events", "render_lines"]

#: colours per event kind, matching the chart marks (chaos magenta, gates yellow, operator cyan)
KIND_STYLES: dict[str, str] = {
    "chaos_start": "bold magenta",
    "chaos_end": "magenta",
    "gate": "bold yellow",
    "gate_final": "bold yellow",
    "operator": "bold cyan",
    "abort": "bold red",
    "truncate": "blue",
    "reset": "blue",
    "backup": "blue",
    "snapshot": "green",
    "size_warning": "yellow",
    "stage_start": "bold",
    "stage_end": "bold",
    "errors": "bold red",
}


#: seconds of error events folded into one line per error kind
ERROR_FOLD_S = 10.0
#: what ``f`` cycles through: a name and the kinds (or levels) it keeps
FILTERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("all", frozenset()),
    ("warn+error", frozenset({"warn", "warning", "error"})),
    ("chaos", frozenset({"chaos_start", "chaos_end"})),
    ("gates", frozenset({"gate", "gate_final", "gate_recovery"})),
    ("operator", frozenset({"operator", "abort", "truncate", "reset", "backup"})),
    ("errors", frozenset({"errors"})),
)
_TALLY = re.compile(r"([^,×]+)×(\d+)")


#: folded lines kept for scrollback (the oldest go first)
MAX_LINES = 5000


@dataclass
class Line:
    """One line of the events panel: an event, or the errors of one kind within ERROR_FOLD_S."""

    t: float
    seq: int
    kind: str
    level: str
    message: str
    count: int = 0
    sample: str = ""


class EventFold:
    """The events folded into lines, kept up to date one new event at a time.

    Lines stay in time order; per-call ``error`` events and per-tick ``errors`` tallies
    become one ``errors`` line per error kind per ERROR_FOLD_S seconds. A stream that goes
    back (a replay's cursor moved) is folded again from the start.
    """

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._buckets: dict[tuple[int, str], Line] = {}
        self._last = -1

    def _reset(self) -> None:
        self.lines, self._buckets, self._last = [], {}, -1

    def update(self, events: Sequence[EventView]) -> list[Line]:
        """Fold the events not seen yet; returns the lines."""
        if not events or events[-1].seq < self._last:
            self._reset()
        start = len(events)
        while start > 0 and events[start - 1].seq > self._last:
            start -= 1
        for ev in events[start:]:
            self._add(ev)
        if events:
            self._last = max(self._last, events[-1].seq)
        if len(self.lines) > MAX_LINES:
            del self.lines[: len(self.lines) - MAX_LINES]
        return self.lines

    def _insert(self, line: Line) -> None:
        if not self.lines or (line.t, line.seq) >= (self.lines[-1].t, self.lines[-1].seq):
            self.lines.append(line)
        else:  # an event stamped a moment before the previous one (another thread): keep time order
            i = bisect.bisect_right(self.lines, (line.t, line.seq), key=lambda x: (x.t, x.seq))
            self.lines.insert(i, line)

    def _add(self, ev: EventView) -> None:
        if ev.kind not in ("error", "errors"):
            self._insert(Line(ev.t, ev.seq, ev.kind, ev.level, ev.message))
            return
        bucket = int(ev.t // ERROR_FOLD_S)
        if ev.kind == "errors":
            pairs = [(k.strip(), int(n)) for k, n in _TALLY.findall(ev.message)]
        else:
            pairs = [(ev.message.split(":", 1)[0], 0)]
        for kind, n in pairs:
            line = self._buckets.get((bucket, kind))
            if line is None:
                line = self._buckets[(bucket, kind)] = Line(ev.t, ev.seq, "errors", "error", "")
                self._insert(line)
            line.count += n
            if ev.kind == "error" and not line.sample:
                line.sample = ev.message.split(":", 1)[-1].strip()
            shown = f"{kind} ×{line.count:,}" if line.count else kind
            span = f" in {bucket * ERROR_FOLD_S:g}–{(bucket + 1) * ERROR_FOLD_S:g}s"
            line.message = shown + span + (f": {line.sample}" if line.sample else "")


def fold(events: Sequence[EventView]) -> list[Line]:
    """The lines of ``events`` folded from scratch (see :class:`EventFold`)."""
    return EventFold().update(events)


def keep(line: Line, filter_name: str, needle: str) -> bool:
    """Whether ``line`` passes the filter (``f``) and the search (``/``)."""
    kinds = dict(FILTERS).get(filter_name, frozenset())
    if kinds and line.kind not in kinds and line.level not in kinds:
        return False
    low = needle.lower()
    return not low or low in line.message.lower() or low in line.kind.lower()


def render_events(
    events: Sequence[EventView],
    height: int = 6,
    *,
    back: int = 0,
    filter_name: str = "all",
    needle: str = "",
    width: int = 100,
) -> RenderableType:
    """The newest ``height`` lines of ``events`` folded (``back`` lines before the newest when
    scrolled), oldest at the top."""
    return render_lines(fold(events), height, back=back, filter_name=filter_name, needle=needle, width=width)


def render_lines(
    folded: list[Line],
    height: int = 6,
    *,
    back: int = 0,
    filter_name: str = "all",
    needle: str = "",
    width: int = 100,
) -> RenderableType:
    """The newest ``height`` folded lines that pass the filter and the search."""
    if filter_name != "all" or needle:
        folded = [ln for ln in folded if keep(ln, filter_name, needle)]
    if not folded:
        return Text("no events match" if filter_name != "all" or needle else "no events yet", style="dim")
    page = max(1, height)
    end = max(min(len(folded), page), len(folded) - back)  # scrolled back past the start: the oldest page
    rows = folded[max(0, end - page) : end]
    time_w = max(len(fmt_duration(ln.t)) for ln in rows)
    kind_w = max(len(ln.kind) for ln in rows)
    msg_w = width - time_w - kind_w - 2
    cells: list[list[Cell]] = [
        [
            Text(fmt_duration(ln.t), style="dim"),
            Text(ln.kind, style=KIND_STYLES.get(ln.kind, "")),
            Text(clip_words(ln.message, msg_w), style=LEVEL_STYLES.get(ln.level, "")),
        ]
        for ln in rows
    ]
    return grid(cells, width, justify=["right", "left", "left"], flex=2)


class EventsPanel(Panel):
    """Every event of the run so far (the app keeps them), folded, filtered and searchable."""

    TITLE = "events"
    COLLAPSIBLE = False
    WIDE = True
    FROM_END = True
    MIN_ROWS = 3
    WANT_ROWS = 12

    recent_events: reactive[tuple[EventView, ...]] = reactive((), repaint=False, init=False)
    filter_name: reactive[str] = reactive("all", init=False)
    needle: reactive[str] = reactive("", init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._fold = EventFold()

    def select(self, snap: Snapshot) -> object:
        return (self.recent_events[-1].seq if self.recent_events else None, len(self.recent_events))

    def subtitle(self, snap: Snapshot) -> str:
        parts = [f"{len(self.recent_events)} events", f"f: {self.filter_name}"]
        if self.needle:
            parts.append(f"/{self.needle}")
        if self.scroll_rows:
            parts.append(f"↑{self.scroll_rows}")
        return " · ".join(parts)

    def next_filter(self) -> str:
        """Cycle the filter (``f``); returns the new one."""
        names = [name for name, _ in FILTERS]
        self.filter_name = names[(names.index(self.filter_name) + 1) % len(names)]
        return self.filter_name

    def _changed(self) -> None:
        if self._shown is not None:
            self.border_subtitle = self.subtitle(self._shown)
        self.refresh()

    def watch_filter_name(self) -> None:
        self._changed()

    def watch_needle(self) -> None:
        self._changed()

    def watch_scroll_rows(self) -> None:
        self._changed()

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_lines(
            self._fold.update(self.recent_events),
            height,
            back=self.scroll_rows,
            filter_name=self.filter_name,
            needle=self.needle,
            width=width,
        )
