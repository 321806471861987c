"""Target output: the tail of the target's (or a node's) stderr/log, with a filter."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Input

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui.widgets._panel import Panel

__all__ = ["OutputLines", "OutputPanel", "render_output"]

#: words that colour a line of output
_LINE_STYLES = (("error", "red"), ("traceback", "red"), ("warn", "yellow"))


def _style(line: str) -> str:
    low = line.lower()
    return next((style for word, style in _LINE_STYLES if word in low), "")


def render_output(lines: Sequence[str], height: int = 6, needle: str = "") -> RenderableType:
    """The last ``height`` lines containing ``needle`` (case-insensitive), matches highlighted."""
    shown = [ln for ln in lines if needle.lower() in ln.lower()] if needle else list(lines)
    if not shown:
        return Text(f"no lines match {needle!r}" if needle else "no output yet", style="dim")
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, line in enumerate(shown[-max(1, height) :]):
        if i:
            text.append("\n")
        part = Text(line, style=_style(line))
        if needle:
            part.highlight_words([needle], style="reverse", case_sensitive=False)
        text.append_text(part)
    return text


class OutputLines(Panel):
    """The filtered lines (the panel's body, under the filter input)."""

    DEFAULT_CSS = """
    OutputLines { border: none; padding: 0; height: 1fr; min-height: 1; }
    """
    COLLAPSIBLE = False

    needle: reactive[str] = reactive("", repaint=False)

    def select(self, snap: Snapshot) -> object:
        return (snap.output, self.needle)

    def watch_needle(self) -> None:
        if self.snapshot is not None:
            self.watch_snapshot(self.snapshot)

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_output(snap.output, height, self.needle)


class OutputPanel(Vertical):
    """The target's output with a filter input; collapses while there is no output."""

    DEFAULT_CSS = """
    OutputPanel {
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
        border-title-style: bold;
        padding: 0 1;
        height: 100%;
    }
    OutputPanel.-collapsed { display: none; }
    OutputPanel.-off { display: none; }
    OutputPanel:focus { border: round $accent; }
    OutputPanel Input { height: 1; border: none; padding: 0 1; background: $boost; }
    """

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False, init=False)
    WIDE = True
    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "target output"

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter (/)", id="output-filter", compact=True)
        yield OutputLines().data_bind(OutputPanel.snapshot)

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        """(min, want) content rows: the filter line and the output lines."""
        return 4, 9

    def watch_snapshot(self, snap: Snapshot | None) -> None:
        if snap is not None and (not snap.output) != self.has_class("-collapsed"):
            self.set_class(not snap.output, "-collapsed")
            self.post_message(Panel.NeedsLayout())

    @on(Input.Changed, "#output-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_one(OutputLines).needle = event.value.strip()
        self.border_subtitle = f"filter: {event.value.strip()}" if event.value.strip() else ""
