"""The live panels, one per module; each wraps a pure snapshot → Rich renderer."""

from __future__ import annotations

from tui.widgets.errors import ErrorsPanel
from tui.widgets.events import EventsPanel
from tui.widgets.files import FilesPanel
from tui.widgets.gates import GatesPanel
from tui.widgets.latency import LatencyPanel
from tui.widgets.memory import MemoryPanel
from tui.widgets.output import OutputPanel
from tui.widgets.rate import RatePanel
from tui.widgets.snapshots import SnapshotsPanel
from tui.widgets.status import StatusBar
from tui.widgets.verdict import VerdictPanel

__all__ = [
    "ErrorsPanel",
    "EventsPanel",
    "FilesPanel",
    "GatesPanel",
    "LatencyPanel",
    "MemoryPanel",
    "OutputPanel",
    "RatePanel",
    "SnapshotsPanel",
    "StatusBar",
    "VerdictPanel",
]
