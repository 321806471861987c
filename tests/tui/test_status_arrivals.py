"""The status header under an arrival rate: achieved vs planned rate, in flight, missed arrivals."""

from __future__ import annotations

from rich.console import Console

from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets.status import render_status


def _text(width: int = 160) -> str:
    snap = sample_snapshot("running").model_copy(
        update={"open_model": True, "rate": 152.0, "planned_rate": 200.0, "in_flight": 8, "missed_arrivals": 504}
    )
    console = Console(width=width, record=True, color_system=None, file=None)
    with console.capture() as cap:
        console.print(render_status(snap))
    return cap.get()


def test_open_model_status_shows_achieved_and_planned_rate_and_missed_arrivals() -> None:
    out = _text()
    assert "rate 152/s of 200/s" in out and "in flight 8" in out and "missed 504" in out


def test_closed_model_status_says_nothing_of_arrivals() -> None:
    console = Console(width=160, record=True, color_system=None, file=None)
    with console.capture() as cap:
        console.print(render_status(sample_snapshot("running")))
    assert "missed" not in cap.get()
