"""Workarounds for the installed Textual version (8.2), kept in one place.

- ``App.HORIZONTAL_BREAKPOINTS`` / ``VERTICAL_BREAKPOINTS`` are annotated
  ``ClassVar[...] | None`` in Textual, which type checkers read as instance
  variables: a class-level override fails ``mypy --strict`` ("cannot override
  instance variable with class variable") and an un-annotated one trips ruff's
  RUF012. Setting them on the instance is what Textual reads anyway
  (``self.app.HORIZONTAL_BREAKPOINTS`` in ``Screen``).
"""

from __future__ import annotations

from typing import Any

from textual.app import App

__all__ = ["set_breakpoints"]


def set_breakpoints(app: App[Any], horizontal: list[tuple[int, str]], vertical: list[tuple[int, str]]) -> None:
    """Give ``app`` its width and height breakpoints (classes set on every screen)."""
    app.HORIZONTAL_BREAKPOINTS = horizontal
    app.VERTICAL_BREAKPOINTS = vertical
