"""Screens and dialogs, one per module."""

from __future__ import annotations

from tui.screens.chaos import ChaosScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.quit import QuitChoice, QuitScreen
from tui.screens.truncate import TruncateScreen

__all__ = ["ChaosScreen", "ConfirmScreen", "HelpScreen", "QuitChoice", "QuitScreen", "TruncateScreen"]
