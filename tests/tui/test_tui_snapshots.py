"""SVG snapshots of the main screen (80×24, 160×48), the help screen and every dialog.

Data comes from the deterministic sample (tui._sample); ``make snapshot-update``
accepts changes after a human looked at them.
"""

from __future__ import annotations

from soakwatch.tui._sample import Situation, sample_snapshot
from soakwatch.tui.app import SoakwatchApp, make_app
from tests.tui.tui_harness import FakeSource, shown


def _app(situation: Situation = "running") -> SoakwatchApp:
    return make_app(FakeSource(sample_snapshot(situation)))


async def _ready(pilot) -> None:
    await shown(pilot.app)


def test_main_80x24(snap_compare):
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_ready)


def test_main_160x48(snap_compare):
    assert snap_compare(_app(), terminal_size=(160, 48), run_before=_ready)


def test_failing_gate_160x48(snap_compare):
    assert snap_compare(_app("failing"), terminal_size=(160, 48), run_before=_ready)


def test_finished_80x24(snap_compare):
    assert snap_compare(_app("finished"), terminal_size=(80, 24), run_before=_ready)


def test_help_screen(snap_compare):
    assert snap_compare(_app(), press=["question_mark"], terminal_size=(80, 24), run_before=_ready)


def test_chaos_dialog(snap_compare):
    assert snap_compare(_app(), press=["c"], terminal_size=(80, 24), run_before=_ready)


def test_truncate_dialog(snap_compare):
    assert snap_compare(_app(), press=["t"], terminal_size=(80, 24), run_before=_ready)


def test_abort_dialog(snap_compare):
    assert snap_compare(_app(), press=["a"], terminal_size=(80, 24), run_before=_ready)


def test_quit_dialog(snap_compare):
    assert snap_compare(_app(), press=["q"], terminal_size=(80, 24), run_before=_ready)
