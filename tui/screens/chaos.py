"""Choose a chaos action among the profile's."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from soakwatch.core.snapshot import ChaosView

__all__ = ["ChaosScreen"]


class ChaosScreen(ModalScreen[str | None]):
    """Dismisses with the chosen action's name (enter), or None (escape)."""

    DEFAULT_CSS = """
    ChaosScreen { align: center middle; }
    ChaosScreen > Vertical {
        width: 76; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ChaosScreen OptionList { height: auto; max-height: 14; margin-bottom: 1; }
    ChaosScreen .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, actions: list[str], details: list[ChaosView] | None = None) -> None:
        super().__init__()
        self.actions = list(actions)
        self.details = {d.name: d for d in details or []}

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "inject chaos"
            if self.actions:
                yield Label("Choose a chaos action; it is marked on the time charts.")
                yield OptionList(*(Option(self._label(name), id=name) for name in self.actions), id="actions")
                yield Label("enter inject · esc cancel", classes="hint")
            else:
                yield Label(
                    "This stage has no chaos actions. Declare [[chaos]] entries in the profile or pass "
                    '--chaos-plan FILE, e.g. action = "kill_worker" (kills one worker; it is restarted) '
                    'or action = "latency" with latency_ms and duration.',
                    id="none",
                )
                yield Label("esc close", classes="hint")

    def _label(self, name: str) -> Text:
        """``name  kill_node node1 for 5s`` (planned ones say when)."""
        d = self.details.get(name)
        if d is None:
            return Text(name, style="bold")
        what = d.action + (f" {d.target}" if d.target else "") + (f" for {d.duration_s:g}s" if d.duration_s else "")
        when = f"  (planned at {d.at_s:g}s)" if d.at_s is not None else ""
        return Text.assemble((name, "bold"), ("  " + what, ""), (when, "dim"))

    def on_mount(self) -> None:
        if self.actions:
            self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
