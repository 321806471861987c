"""SVG snapshots of every screen at 80×24, 120×40, 160×48 and 220×60, and of each dialog over
the dashboard (at 80×24 and 160×48 only: a dialog's box is the same at every size, and four
sizes of each would double the suite's time for no new information).

Data comes from the deterministic samples (tui._sample, tui._sample_nodes); ``make
snapshot-update`` accepts changes after a human looked at them.
"""

from __future__ import annotations

import re

import pytest

from soakwatch.tui._sample import Situation, sample_snapshot
from soakwatch.tui.app import SoakwatchApp, make_app
from tests.tui.tui_harness import FakeSource, shown, svg_lines

SIZES = [(80, 24), (120, 40), (160, 48), (220, 60)]
DIALOG_SIZES = [(80, 24), (160, 48)]
#: (test id, situation, keys pressed)
SCREENS: list[tuple[str, Situation, list[str]]] = [
    ("running", "running", []),
    ("topology", "topology", []),
    ("failing_gate", "failing", []),
    ("paused", "paused", []),
    ("help", "running", ["question_mark"]),
    ("latency_heatmap", "running", ["h"]),
    ("finished_warnings", "finished_warn", []),
]
DIALOGS: list[tuple[str, Situation, list[str]]] = [
    ("chaos", "running", ["c"]),
    ("chaos_none", "paused", ["c"]),
    ("truncate", "running", ["t"]),
    ("abort", "running", ["a"]),
    ("quit", "running", ["q"]),
]


#: a number cut by an ellipsis: a cell that starts like a number and ends in "…"
CUT_NUMBER = re.compile(r"(?:^|[\s│┃(])[-+×]?\d[^\s…│┃]*…")


def cut_numbers(lines: list[str]) -> list[str]:
    """The screen lines that show a number cut by an ellipsis."""
    return [line for line in lines if CUT_NUMBER.search(line)]


def _app(situation: Situation = "running", *, no_chaos: bool = False) -> SoakwatchApp:
    snap = sample_snapshot(situation)
    if no_chaos:  # an ad-hoc run: the picker says how to get chaos actions
        snap = snap.model_copy(update={"chaos": [], "chaos_actions": []})
    return make_app(FakeSource(snap))


def _ready(keys: list[str]):
    """Wait for the snapshot, press ``keys``, and check that no number on screen is cut."""

    async def run_before(pilot) -> None:
        await shown(pilot.app)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        screen = svg_lines(pilot.app.export_screenshot())
        assert cut_numbers(screen) == [], "\n".join(screen)

    return run_before


def test_the_scan_finds_cut_numbers():
    assert cut_numbers(["│ now 1,0…  +1… │"]) and cut_numbers(["errors 8…"]) and cut_numbers(["(2.5…"])
    assert not cut_numbers(["│ worke… 12.5 MB  │", "run dir /srv/demo-2025…", "p95 < 25 ove…"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(("name", "situation", "keys"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen(snap_compare, name: str, situation: Situation, keys: list[str], size: tuple[int, int]):
    assert snap_compare(_app(situation), terminal_size=size, run_before=_ready(keys))


@pytest.mark.parametrize("size", DIALOG_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(("name", "situation", "keys"), DIALOGS, ids=[d[0] for d in DIALOGS])
def test_dialog_over_the_dashboard(
    snap_compare, name: str, situation: Situation, keys: list[str], size: tuple[int, int]
):
    app = _app(situation, no_chaos=name == "chaos_none")
    assert snap_compare(app, terminal_size=size, run_before=_ready(keys))
