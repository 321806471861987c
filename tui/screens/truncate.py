"""Truncate watched logs: lists the files with their sizes and asks to confirm."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, SelectionList
from textual.widgets.selection_list import Selection

from soakwatch.core.snapshot import FileView
from soakwatch.tui._format import fmt_bytes, fmt_count

__all__ = ["TruncateScreen"]


class TruncateScreen(ModalScreen[list[str] | None]):
    """Dismisses with the chosen paths (all preselected; y or the button) or None (n / escape)."""

    DEFAULT_CSS = """
    TruncateScreen { align: center middle; }
    TruncateScreen > Vertical {
        width: 72; max-width: 95%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    TruncateScreen SelectionList { height: auto; max-height: 12; margin-bottom: 1; }
    TruncateScreen Horizontal { height: auto; align-horizontal: right; }
    TruncateScreen Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Truncate"),
        Binding("n,escape", "cancel", "Cancel"),
    ]

    def __init__(self, files: list[FileView]) -> None:
        super().__init__()
        self.files = list(files)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "truncate watched files"
            if not self.files:
                yield Label("This stage watches no files.", id="none")
                with Horizontal():
                    yield Button("Close (esc)", id="no")
                return
            yield Label("Truncate these files? (space toggles a file)")
            width = max(len(f.path) for f in self.files)
            yield SelectionList[str](
                *(
                    Selection(f"{f.path:<{width}}  {fmt_bytes(f.size):>9}  {fmt_count(f.lines):>8} lines", f.path, True)
                    for f in self.files
                ),
                id="files",
            )
            with Horizontal():
                yield Button("Cancel (n)", id="no")
                yield Button("Truncate (y)", id="yes", variant="warning")

    def on_mount(self) -> None:
        if self.files:
            self.query_one(SelectionList).focus()

    def action_confirm(self) -> None:
        if not self.files:
            self.dismiss(None)
            return
        chosen = list(self.query_one(SelectionList).selected)
        self.dismiss([str(p) for p in chosen] or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self.action_confirm()
        else:
            self.dismiss(None)
