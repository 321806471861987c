"""The ``?`` help screen: every key, what it does, and what the marks on the charts mean."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from soakwatch.tui._charts import MARK_GLYPHS

__all__ = ["HelpScreen"]

MARK_MEANINGS = {"chaos": "chaos action", "gate": "gate transition", "op": "operator action"}


def help_table(keys: list[tuple[str, str]]) -> Table:
    """Keys and their meaning, then the chart marks."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", justify="right", no_wrap=True)
    table.add_column()
    for key, text in keys:
        table.add_row(key, text)
    table.add_row("", "")
    for kind, (glyph, style) in MARK_GLYPHS.items():
        table.add_row(Text(glyph, style=style), f"on a chart: {MARK_MEANINGS.get(kind, kind)}")
    return table


class HelpScreen(ModalScreen[None]):
    """Closes on escape, ``?`` or ``q``."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 74; max-width: 95%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 2;
    }
    HelpScreen Static { width: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "dismiss_help", "Close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "soakwatch keys"
            box.border_subtitle = "esc close"
            yield Static(help_table(self.keys))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
