"""The base of every live panel: takes snapshots, redraws only the rows that changed.

A panel is a thin Textual wrapper around a pure render function (snapshot → Rich
renderable) that lives next to it in the same module. The app binds its
``snapshot`` reactive to each panel (``data_bind``); a panel compares the slice of
the snapshot it shows with the last one and only then repaints, and hides itself
(collapses) while it has nothing to show for this stage.

Drawing uses Textual's line API (:class:`~soakwatch.tui.widgets._lines.LineWidget`):
when its data changes the panel draws its rows again and repaints only the rows that
differ from the ones on screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.message import Message
from textual.reactive import reactive

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui.widgets._lines import LineWidget

__all__ = ["Panel"]

WAITING = Text("waiting for the first snapshot…", style="dim")


class Panel(LineWidget):
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
    Panel.-off { display: none; }
    Panel:focus { border: round $accent; }
    """

    #: shown in the border
    TITLE: ClassVar[str] = ""
    #: collapse the panel while :meth:`has_content` is False
    COLLAPSIBLE: ClassVar[bool] = True
    #: a panel whose height follows its content needs a layout pass when it changes
    LAYOUT_ON_CHANGE: ClassVar[bool] = False
    #: spans two grid columns (tables with many columns, logs)
    WIDE: ClassVar[bool] = False
    #: rows of content (without the border) that show the panel's numbers whole, and that it could use
    MIN_ROWS: ClassVar[int] = 3
    WANT_ROWS: ClassVar[int] = 8

    #: the list's newest line is at the bottom and scroll_rows counts back from it (events)
    FROM_END: ClassVar[bool] = False

    class NeedsLayout(Message):
        """A panel collapsed or came back: the dashboard's layout must be planned again."""

    can_focus = True
    #: rows scrolled back from the top of the panel's list (arrows, PageUp/PageDown when focused)
    scroll_rows: reactive[int] = reactive(0, init=False)

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

    def rows(self, snap: Snapshot) -> tuple[int, int]:
        """(min, want) content rows for this snapshot; the layout adds the border."""
        return self.MIN_ROWS, self.WANT_ROWS

    def scroll_by(self, rows: int) -> None:
        """Move the panel's view by ``rows`` (negative: up); a log (newest at the bottom) counts back from its end."""
        self.scroll_rows = max(0, self.scroll_rows + (-rows if self.FROM_END else rows))

    def watch_scroll_rows(self) -> None:
        self.refresh()

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
            self.post_message(self.NeedsLayout())
        sub = self.subtitle(snap)
        if sub != self.border_subtitle:
            self.set_border_subtitle(sub)
        self.redraws += 1
        if self.LAYOUT_ON_CHANGE:
            self.refresh(layout=True)
        else:
            self.repaint_changed_rows()

    def render(self) -> RenderableType:
        if self._shown is None:
            return WAITING
        size = self.content_size
        return self.render_snapshot(self._shown, max(1, size.width), max(1, size.height))
