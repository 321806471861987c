"""The header: stage, profile, target, state, elapsed and ETA, and a progress bar."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.reactive import reactive

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import STATE_STYLES, fmt_count, fmt_duration, fmt_rate
from soakwatch.tui.widgets._lines import LineWidget

__all__ = ["StatusBar", "render_status"]


def _limit(snap: Snapshot) -> str:
    if snap.planned_calls:
        return f"{fmt_count(snap.calls)}/{fmt_count(snap.planned_calls)} calls"
    if snap.planned_duration:
        return f"{fmt_duration(snap.elapsed)}/{fmt_duration(snap.planned_duration)}"
    return f"{fmt_count(snap.calls)} calls"


def _arrivals(snap: Snapshot, short: bool = False) -> Text:
    """Open model: achieved vs planned rate, calls in flight, arrivals missed (due, never sent);
    ``short`` leaves out the labels and the calls in flight (the rate panel shows them)."""
    if not snap.open_model:
        return Text()
    rate = f"{fmt_rate(snap.rate)} of {fmt_rate(snap.planned_rate or 0.0)}"
    missed = (fmt_count(snap.missed_arrivals), "bold yellow" if snap.missed_arrivals else "")
    if short:
        return Text.assemble(("  ", ""), (rate, ""), ("  missed ", "dim"), missed)
    return Text.assemble(
        ("  rate ", "dim"),
        (rate, ""),
        ("  in flight ", "dim"),
        (fmt_count(snap.in_flight), ""),
        ("  missed ", "dim"),
        missed,
    )


#: the progress bar's characters: done, the leading edge, to do
BAR_DONE, BAR_EDGE, BAR_TODO = "━", "╸", "━"


def _bar(progress: float, width: int) -> Text:
    done = progress * width
    full = int(done)
    text = Text(BAR_DONE * full, style="green")
    if full < width:
        text.append(BAR_EDGE if done - full >= 0.5 else BAR_TODO, style="green" if done - full >= 0.5 else "grey30")
        text.append(BAR_TODO * (width - full - 1), style="grey30")
    return text


def _line(left: Text, right: Text, width: int, middle: Text | None = None) -> Text:
    """``left`` and ``right`` on one line of ``width``; ``left`` is shortened first, ``middle`` fills."""
    room = width - right.cell_len - (1 if right.cell_len else 0)
    if left.cell_len > room:
        left = left.copy()
        left.truncate(max(0, room), overflow="ellipsis")
    line = left.copy()
    gap = width - left.cell_len - right.cell_len
    if middle is not None and gap > 2:
        line.append(" ")
        line.append_text(_bar_fit(middle, gap - 2))
        line.append(" ")
    else:
        line.append(" " * max(0, gap))
    line.append_text(right)
    return line


def _bar_fit(bar: Text, width: int) -> Text:
    return bar if bar.cell_len == width else bar[:width]


def render_status(snap: Snapshot | None, stream_note: str = "", width: int = 120) -> RenderableType:
    """Two lines: who/what/state on the first, time, progress and auto-abort on the second."""
    if snap is None:
        return Text.assemble(("soakwatch ", "bold"), ("connecting to the stage…", "dim"))
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
    progress = snap.progress
    for short in (False, True, None):  # labels go before numbers do (None: the shortest)
        when = Text.assemble(
            ("elapsed " if short is not None else "", "dim"),
            (fmt_duration(snap.elapsed), "bold"),
            ("  ETA ", "dim"),
            (fmt_duration(snap.eta), "bold"),
        )
        tail = Text.assemble(
            (f"{progress:4.0%} " if progress is not None else "", "bold"),
            (_limit(snap), ""),
            _arrivals(snap, short is not False),
            ("  auto-abort ", "dim") if short is False else ("  ", ""),
            ("on", "green") if snap.auto_abort else ("OFF", "bold yellow"),
        )
        if when.cell_len + tail.cell_len + 1 <= width:
            break
    room = max(0, width - when.cell_len - tail.cell_len - 2)
    middle = _bar(progress, room) if progress is not None else Text("open-ended".center(room), style="dim")
    return Group(_line(who, state, width), _line(when, tail, width, middle))


class StatusBar(LineWidget):
    """The two header lines; repaints only the rows whose content changed."""

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
            self.repaint_changed_rows()

    def render(self) -> RenderableType:
        return render_status(self.snapshot, self.stream_note, max(1, self.content_size.width))
