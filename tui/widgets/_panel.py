"""The base of every live panel: takes snapshots, redraws only the rows that changed.

A panel is a thin Textual wrapper around a pure render function (snapshot → Rich
renderable) that lives next to it in the same module. The app binds its
``snapshot`` reactive to each panel (``data_bind``); a panel compares the slice of
the snapshot it shows with the last one and only then repaints, and hides itself
(collapses) while it has nothing to show for this stage.

Drawing uses Textual's line API: the panel keeps its content as one Strip per row
(``render_line`` hands them out) and, when its data changes, draws the rows again,
compares them with the ones on screen and repaints only the rows that differ; the
border, the padding and the unchanged rows are not drawn again, so Textual's styling,
compositing and the terminal output only see what moved. A panel can draw its Strips
itself (:meth:`Panel.render_strips`, cheaper than building Rich renderables); the
others go through the same conversion Textual uses for :meth:`render`.
"""

from __future__ import annotations

from typing import ClassVar, Self

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize
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

    #: the content rows drawn last (None: draw them again at the next render_line), and for what
    _lines: list[Strip] | None = None
    _lines_for: tuple[Size, Style] | None = None

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

    def render_strips(self, snap: Snapshot, width: int, height: int, base: Style) -> list[Strip] | None:
        """The content rows drawn directly on ``base`` (the widget's style), or None to draw
        :meth:`render_snapshot` through Rich; both must give the same cells."""
        return None

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
            self.border_subtitle = sub
        self.redraws += 1
        if self.LAYOUT_ON_CHANGE:
            self.refresh(layout=True)
        else:
            self._repaint_changed_rows()

    def render(self) -> RenderableType:
        if self._shown is None:
            return WAITING
        size = self.content_size
        return self.render_snapshot(self._shown, max(1, size.width), max(1, size.height))

    # ------------------------------------------------------------ line API
    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if repaint and not regions:  # the whole panel (a size, style or view change): draw every row again
            self._lines = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _draw(self, size: Size, base: Style) -> list[Strip]:
        width, height = max(1, size.width), max(1, size.height)
        strips = None if self._shown is None else self.render_strips(self._shown, width, height, base)
        if strips is None:
            strips = Visual.to_strips(self, visualize(self, self.render()), width, height, base)
        return strips

    def _content(self) -> list[Strip]:
        size, base = self.content_size, self.visual_style
        if self._lines is None or self._lines_for != (size, base):
            self._lines = self._draw(size, base)
            self._lines_for = (size, base)
        return self._lines

    def render_line(self, y: int) -> Strip:
        lines = self._content()
        return lines[y] if y < len(lines) else Strip.blank(self.content_size.width, self.visual_style.rich_style)

    def _repaint_changed_rows(self) -> None:
        """Draw the content again and repaint only the rows that differ from the ones shown."""
        old, size, base = self._lines, self.content_size, self.visual_style
        if old is None or self._lines_for != (size, base) or not self.display:
            self.refresh()  # nothing to compare with (or not on screen): drawn when shown
            return
        new = self._draw(size, base)
        self._lines = new
        rows = max(len(old), len(new))
        y = 0
        while y < rows:
            if y < len(old) and y < len(new) and old[y] == new[y]:
                y += 1
                continue
            start = y
            while y < rows and not (y < len(old) and y < len(new) and old[y] == new[y]):
                y += 1
            super().refresh(Region(0, start, size.width, y - start))
