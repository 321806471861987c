"""Quitting while the stage still runs: abort it and quit, or keep it running and close the UI."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["QuitChoice", "QuitScreen"]

QuitChoice = Literal["abort", "detach"]


class QuitScreen(ModalScreen[QuitChoice | None]):
    """Dismisses with ``"abort"`` (a), ``"detach"`` (k: keep the stage running) or None (escape)."""

    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical {
        width: 68; max-width: 95%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    QuitScreen Label { width: 100%; margin-bottom: 1; }
    QuitScreen Horizontal { height: auto; align-horizontal: right; }
    QuitScreen Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "choose('abort')", "Abort and quit"),
        Binding("k", "choose('detach')", "Keep running"),
        Binding("escape", "choose(None)", "Cancel"),
    ]

    def __init__(self, stage: str, run_dir: str) -> None:
        super().__init__()
        self.stage = stage
        self.run_dir = run_dir

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "quit"
            yield Label(
                f"Stage [b]{self.stage}[/b] is still running.\n"
                f"Abort it and quit, or keep it running and close only this window "
                f"(`soakwatch attach {self.run_dir}` brings it back)."
            )
            with Horizontal():
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Keep running (k)", id="detach", variant="primary")
                yield Button("Abort and quit (a)", id="abort", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def action_choose(self, choice: QuitChoice | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choice: QuitChoice | None = "abort" if event.button.id == "abort" else None
        if event.button.id == "detach":
            choice = "detach"
        self.dismiss(choice)
