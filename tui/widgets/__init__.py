"""The live panels, one per module; each wraps a pure snapshot → Rich renderer."""

from __future__ import annotations

from soakwatch.tui.widgets.endpoints import EndpointsPanel
from soakwatch.tui.widgets.errors import ErrorsPanel
from soakwatch.tui.widgets.events import EventsPanel
from soakwatch.tui.widgets.files import FilesPanel
from soakwatch.tui.widgets.gates import GatesPanel
from soakwatch.tui.widgets.latency import LatencyPanel
from soakwatch.tui.widgets.memory import MemoryPanel
from soakwatch.tui.widgets.nodes import NodesPanel
from soakwatch.tui.widgets.output import OutputPanel
from soakwatch.tui.widgets.rate import RatePanel
from soakwatch.tui.widgets.snapshots import SnapshotsPanel
from soakwatch.tui.widgets.status import StatusBar
from soakwatch.tui.widgets.verdict import VerdictPanel

__all__ = [
    "EndpointsPanel",
    "ErrorsPanel",
    "EventsPanel",
    "FilesPanel",
    "GatesPanel",
    "LatencyPanel",
    "MemoryPanel",
    "NodesPanel",
    "OutputPanel",
    "RatePanel",
    "SnapshotsPanel",
    "StatusBar",
    "VerdictPanel",
]
