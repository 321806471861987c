"""Collectors: samplers of everything around the calls (processes, files, scrapes, reports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soakwatch.plugins import Plugin
    from soakwatch.profile import Profile

__all__ = ["build_collectors"]


def build_collectors(profile: Profile) -> list[Plugin]:
    """The collectors a profile asks for, in the order they tick."""
    return []
