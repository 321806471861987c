"""The base of every live panel: takes snapshots, redraws only when its part changed.

A panel is a thin Textual wrapper around a pure render function (snapshot → Rich
renderable) that lives next to it in the same module. The app binds its
``snapshot`` reactive to each panel (``data_bind``); a panel compares the slice of
the snapshot it shows with the last one and only then repaints, and hides itself
(collapses) while it has nothing to show for this stage.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from soakwatch.core.snapshot import Snapshot

__all__ = ["Panel"]

WAITING = Text("waiting for the first snapshot…", style="dim")


class Panel(Widget):
    """A bordered panel showing one part of the live snapshot."""

    DEFAULT_CSS = """
    Panel {
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
        border-title-style: bold;
        padding: 0 1;
        height: 100%;
        min-height: 4;
    }
    Panel.-collapsed { display: none; }
    """

    #: shown in the border
    TITLE: ClassVar[str] = ""
    #: collapse the panel while :meth:`has_content` is False
    COLLAPSIBLE: ClassVar[bool] = True
    #: a panel whose height follows its content needs a layout pass when it changes
    LAYOUT_ON_CHANGE: ClassVar[bool] = False

    snapshot: reactive[Snapshot | None] = reactive(None, repaint=False, init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = self.TITLE
        self._key: object = None
        self._shown: Snapshot | None = None
        #: how many times the panel asked to be repainted (the benchmark and tests read it)
        self.redraws = 0

    # ------------------------------------------------------------ subclass API
    def select(self, snap: Snapshot) -> object:
        """The part of the snapshot this panel shows; a repaint happens only when it changes."""
        return snap

    def has_content(self, snap: Snapshot) -> bool:
        """False when there is nothing to show for this stage (the panel then collapses)."""
        return True

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        """The panel's content at this size (a call to the module's pure renderer)."""
        raise NotImplementedError

    def subtitle(self, snap: Snapshot) -> str:
        """A short figure for the bottom border, e.g. the current value."""
        return ""

    # ------------------------------------------------------------ machinery
    def watch_snapshot(self, snap: Snapshot | None) -> None:
        if snap is None:
            return
        key = self.select(snap)
        if self._shown is not None and key == self._key:
            return
        self._key = key
        self._shown = snap
        collapsed = self.COLLAPSIBLE and not self.has_content(snap)
        if collapsed != self.has_class("-collapsed"):
            self.set_class(collapsed, "-collapsed")
        sub = self.subtitle(snap)
        if sub != self.border_subtitle:
            self.border_subtitle = sub
        self.redraws += 1
        self.refresh(layout=self.LAYOUT_ON_CHANGE)

    def render(self) -> RenderableType:
        if self._shown is None:
            return WAITING
        size = self.content_size
        return self.render_snapshot(self._shown, max(1, size.width), max(1, size.height))
