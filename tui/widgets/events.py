"""Events: chaos, truncations, resets, gate transitions, operator actions, as they happen.

Each snapshot carries only the events new since the previous one; the app keeps every
event of the run (bounded by MAX_EVENTS) and binds them here. Per-call errors and
per-tick error tallies are folded into one line per error kind per ERROR_FOLD_S.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive

from soakwatch.core.snapshot import EventView, Snapshot
from soakwatch.tui._format import LEVEL_STYLES, clip_words, fmt_duration
from soakwatch.tui.widgets._panel import Panel

__all__ = ["FILTERS", "KIND_STYLES", "EventsPanel", "fold", "render_events"]

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


@dataclass(frozen=True)
class Line:
    """One line of the events panel: an event, or the errors of one kind within ERROR_FOLD_S."""

    t: float
    kind: str
    level: str
    message: str


def fold(events: Sequence[EventView]) -> list[Line]:
    """Events in time order, one line each; per-call ``error`` events and per-tick ``errors``
    tallies become one ``errors`` line per error kind per ERROR_FOLD_S seconds."""
    lines: list[Line] = []
    buckets: dict[tuple[int, str], tuple[int, str, int]] = {}  # (bucket, kind) -> (count, sample, line index)
    for ev in sorted(events, key=lambda e: (e.t, e.seq)):
        if ev.kind not in ("error", "errors"):
            lines.append(Line(ev.t, ev.kind, ev.level, ev.message))
            continue
        bucket = int(ev.t // ERROR_FOLD_S)
        pairs = (
            [(k.strip(), int(n)) for k, n in _TALLY.findall(ev.message)]
            if ev.kind == "errors"
            else [(ev.message.split(":", 1)[0], 0)]
        )
        for kind, n in pairs:
            count, sample, idx = buckets.get((bucket, kind), (0, "", -1))
            if ev.kind == "error" and not sample:
                sample = ev.message.split(":", 1)[-1].strip()
            if idx < 0:
                idx = len(lines)
                lines.append(Line(ev.t, "errors", "error", ""))
            buckets[(bucket, kind)] = (count + n, sample, idx)
    for (bucket, kind), (count, sample, idx) in buckets.items():
        line = lines[idx]
        shown = f"{kind} ×{count:,}" if count else kind
        span = f" in {bucket * ERROR_FOLD_S:g}–{(bucket + 1) * ERROR_FOLD_S:g}s"
        lines[idx] = Line(line.t, "errors", "error", shown + span + (f": {sample}" if sample else ""))
    return lines


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
    """The newest ``height`` lines (``back`` lines before the newest when scrolled), oldest at the top."""
    lines = [ln for ln in fold(events) if keep(ln, filter_name, needle)]
    if not lines:
        return Text("no events match" if events else "no events yet", style="dim")
    end = max(0, len(lines) - back)
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(justify="right", style="dim", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, ratio=1)
    rows = lines[max(0, end - max(1, height)) : end]
    msg_w = width - max(len(fmt_duration(ln.t)) for ln in rows) - max(len(ln.kind) for ln in rows) - 2
    for ln in rows:
        table.add_row(
            fmt_duration(ln.t),
            Text(ln.kind, style=KIND_STYLES.get(ln.kind, "")),
            Text(clip_words(ln.message, msg_w), style=LEVEL_STYLES.get(ln.level, "")),
        )
    return table


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
        return render_events(
            self.recent_events,
            height,
            back=self.scroll_rows,
            filter_name=self.filter_name,
            needle=self.needle,
            width=width,
        )
