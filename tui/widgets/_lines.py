"""A widget that draws through Textual's line API and repaints only the rows that changed.

The widget keeps its content as one Strip per row (``render_line`` hands them out).
When its data changes it calls :meth:`LineWidget.repaint_changed_rows`: the rows are
drawn again, compared with the ones on screen, and only the rows that differ are
marked for repaint, so Textual's styling (border, padding), compositing and the
terminal output only see what moved. Any other refresh of the whole widget (a
resize, a theme, focus or view change) draws every row again at the next paint.

Rows are drawn from :meth:`render` by :func:`soakwatch.tui._strips.renderable_strips`
(rows cut to the width), or with Textual's own conversion when ``WRAPS`` is set.
"""

from __future__ import annotations

from typing import ClassVar, Self

from rich.console import ConsoleRenderable
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize
from textual.widget import Widget

from soakwatch.tui._strips import renderable_strips

__all__ = ["LineWidget"]


class LineWidget(Widget):
    """Content drawn as cached Strips, repainted row by row."""

    #: rows longer than the width wrap (Textual's own conversion draws them) instead of being cut
    WRAPS: ClassVar[bool] = False

    #: the content rows drawn last (None: draw them again at the next render_line), and for what
    _lines: list[Strip] | None = None
    _lines_for: tuple[Size, Style] | None = None
    #: set while only the bottom border's text changes (see set_border_subtitle)
    _border_row_only = False
    #: the content rows the last :meth:`repaint_changed_rows` repainted (None: all of them); tests read it
    last_repaint: tuple[int, ...] | None = None

    def draw_strips(self, width: int, height: int, base: Style) -> list[Strip]:
        """The content rows at this size on ``base`` (the widget's style)."""
        content = self.render()
        if self.WRAPS or isinstance(content, Visual) or not isinstance(content, ConsoleRenderable | str):
            return Visual.to_strips(self, visualize(self, content), width, height, base)
        app = self.app
        return renderable_strips(content, app.console, app.console_options, width, height, base.rich_style)

    def set_border_subtitle(self, text: str) -> None:
        """Change the bottom border's text and repaint only that row (the content stays as drawn)."""
        self._border_row_only = True
        try:
            self.border_subtitle = text
        finally:
            self._border_row_only = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if self._border_row_only and not regions and not layout and not recompose:
            width, height = self.outer_size
            left, top = self.content_offset  # regions are relative to the content
            return super().refresh(Region(-left, height - 1 - top, width, 1))
        if repaint and not regions:  # the whole widget: draw every row again
            self._lines = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _draw(self, size: Size, base: Style) -> list[Strip]:
        return self.draw_strips(max(1, size.width), max(1, size.height), base)

    def render_line(self, y: int) -> Strip:
        size, base = self.content_size, self.visual_style
        if self._lines is None or self._lines_for != (size, base):
            self._lines = self._draw(size, base)
            self._lines_for = (size, base)
        lines = self._lines
        return lines[y] if y < len(lines) else Strip.blank(size.width, base.rich_style)

    def repaint_changed_rows(self) -> None:
        """Draw the content again and repaint only the rows that differ from the ones shown."""
        old, size, base = self._lines, self.content_size, self.visual_style
        if old is None or self._lines_for != (size, base) or not self.display:
            self.last_repaint = None
            self.refresh()  # nothing to compare with (or not on screen): drawn when next shown
            return
        new = self._lines = self._draw(size, base)
        rows = max(len(old), len(new))
        same = [y < len(old) and y < len(new) and old[y] == new[y] for y in range(rows)]
        self.last_repaint = tuple(y for y in range(rows) if not same[y])
        y = 0
        while y < rows:
            if same[y]:
                y += 1
                continue
            start = y
            while y < rows and not same[y]:
                y += 1
            super().refresh(Region(0, start, size.width, y - start))
