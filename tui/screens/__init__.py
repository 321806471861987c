"""Screens and dialogs, one per module."""

from __future__ import annotations

from soakwatch.tui.screens.chaos import ChaosScreen
from soakwatch.tui.screens.confirm import ConfirmScreen
from soakwatch.tui.screens.help import HelpScreen
from soakwatch.tui.screens.quit import QuitChoice, QuitScreen
from soakwatch.tui.screens.truncate import TruncateScreen

__all__ = ["ChaosScreen", "ConfirmScreen", "HelpScreen", "QuitChoice", "QuitScreen", "TruncateScreen"]
