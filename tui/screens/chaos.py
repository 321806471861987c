"""Choose a chaos action among the profile's."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

__all__ = ["ChaosScreen"]


class ChaosScreen(ModalScreen[str | None]):
    """Dismisses with the chosen action's name (enter), or None (escape)."""

    DEFAULT_CSS = """
    ChaosScreen { align: center middle; }
    ChaosScreen > Vertical {
        width: 60; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ChaosScreen OptionList { height: auto; max-height: 14; margin-bottom: 1; }
    ChaosScreen .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, actions: list[str]) -> None:
        super().__init__()
        self.actions = list(actions)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "inject chaos"
            if self.actions:
                yield Label("Choose a chaos action; it is marked on the time charts.")
                yield OptionList(*(Option(name, id=name) for name in self.actions), id="actions")
                yield Label("enter inject · esc cancel", classes="hint")
            else:
                yield Label("This profile declares no chaos actions.", id="none")
                yield Label("esc close", classes="hint")

    def on_mount(self) -> None:
        if self.actions:
            self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
