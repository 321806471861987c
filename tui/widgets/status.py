"""The header: stage, profile, target, state, elapsed and ETA, and a progress bar."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import STATE_STYLES, fmt_count, fmt_duration, fmt_rate

__all__ = ["StatusBar", "render_status"]


def _limit(snap: Snapshot) -> str:
    if snap.planned_calls:
        return f"{fmt_count(snap.calls)}/{fmt_count(snap.planned_calls)} calls"
    if snap.planned_duration:
        return f"{fmt_duration(snap.elapsed)}/{fmt_duration(snap.planned_duration)}"
    return f"{fmt_count(snap.calls)} calls"


def _arrivals(snap: Snapshot) -> Text:
    """Open model: achieved vs planned rate, calls in flight, arrivals missed (due, never sent)."""
    if not snap.open_model:
        return Text()
    return Text.assemble(
        ("  rate ", "dim"),
        (f"{fmt_rate(snap.rate)} of {fmt_rate(snap.planned_rate or 0.0)}", ""),
        ("  in flight ", "dim"),
        (fmt_count(snap.in_flight), ""),
        ("  missed ", "dim"),
        (fmt_count(snap.missed_arrivals), "bold yellow" if snap.missed_arrivals else ""),
    )


def render_status(snap: Snapshot | None, stream_note: str = "") -> RenderableType:
    """Two lines: who/what/state on the first, time, progress and auto-abort on the second."""
    if snap is None:
        return Text.assemble(("soakwatch ", "bold"), ("connecting to the stage…", "dim"))
    top = Table.grid(expand=True)
    top.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    top.add_column(no_wrap=True, justify="right")
    who = Text.assemble(
        ("soakwatch ", "bold"),
        (snap.stage, "bold"),
        ("  profile ", "dim"),
        (snap.profile, ""),
        ("  target ", "dim"),
        (snap.target, ""),
    )
    state = Text.assemble(
        (stream_note + "  ", "bold red") if stream_note else ("", ""),
        (f" {snap.state} ", STATE_STYLES.get(snap.state, "reverse")),
    )
    top.add_row(who, state)
    bottom = Table.grid(expand=True, padding=(0, 1))
    bottom.add_column(no_wrap=True)
    bottom.add_column(ratio=1)
    bottom.add_column(no_wrap=True, justify="right")
    progress = snap.progress
    bar: RenderableType = (
        ProgressBar(total=1.0, completed=progress, complete_style="green", finished_style="green")
        if progress is not None
        else Text("open-ended", style="dim")
    )
    when = Text.assemble(
        ("elapsed ", "dim"), (fmt_duration(snap.elapsed), "bold"), ("  ETA ", "dim"), (fmt_duration(snap.eta), "bold")
    )
    tail = Text.assemble(
        (f"{progress:4.0%} " if progress is not None else "", "bold"),
        (_limit(snap), ""),
        _arrivals(snap),
        ("  auto-abort ", "dim"),
        ("on", "green") if snap.auto_abort else ("OFF", "bold yellow"),
    )
    bottom.add_row(when, bar, tail)
    return Group(top, bottom)


class StatusBar(Widget):
    """The two header lines; repaints only when what it shows changed."""

    DEFAULT_CSS = """
    StatusBar { height: 2; padding: 0 1; background: $panel; }
    """

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False, init=False)
    stream_note: reactive[str] = reactive("")

    def _key(self, snap: Snapshot) -> object:
        return (
            snap.state,
            round(snap.elapsed, 1),
            snap.eta and round(snap.eta),
            snap.calls,
            snap.auto_abort,
            snap.missed_arrivals,
            round(snap.rate),
        )

    def watch_snapshot(self, old: Snapshot | None, new: Snapshot | None) -> None:
        if new is not None and (old is None or self._key(old) != self._key(new)):
            self.refresh()

    def render(self) -> RenderableType:
        return render_status(self.snapshot, self.stream_note)
