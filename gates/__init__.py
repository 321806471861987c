"""Gates: rules that turn the recorded series into verdicts while the stage runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soakwatch.plugins import Plugin
    from soakwatch.profile import Profile

__all__ = ["build_gates"]


def build_gates(profile: Profile) -> Plugin | None:
    """The gate evaluator for a profile's rules, or None without rules."""
    return None
