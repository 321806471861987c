"""Attaching to a running stage shows the run's whole event history, not only what comes after.

The stage is a real detached process that writes its own events.jsonl; the test makes
events with operator commands, attaches the TUI after them, and compares what the
events panel holds with the file, seq by seq.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from soakwatch.control.client import ControlClient, SocketSource
from soakwatch.core.event_types import Event
from soakwatch.core.rundir_reader import read_events
from soakwatch.core.snapshot import EventView
from soakwatch.tui.app import make_app
from soakwatch.tui.widgets import EventsPanel
from soakwatch.tui.widgets.events import render_events
from tests.detach_harness import detached_fixture, registry_fixture, until  # noqa: F401 (fixtures)
from tests.tui.tui_harness import svg_lines, wait_for

#: pause/resume pairs sent before attaching (two operator events each)
PAIRS = 3


async def test_attach_starts_with_every_event_since_the_stage_began(
    detached: Callable[..., tuple[Path, int]],
) -> None:
    run_dir, _ = detached()
    with ControlClient(run_dir) as client:
        for _ in range(PAIRS):
            client.command("pause")
            client.command("resume")

    def on_disk() -> list[Event] | None:
        evs = read_events(run_dir)
        return evs if sum(e.kind == "operator" for e in evs) >= 2 * PAIRS else None

    before = until(on_disk, "the operator events on disk")
    assert before[0].seq == 1 and before[0].kind == "stage_start"
    source = SocketSource(run_dir, client="attached tui")
    app = make_app(source)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            panel = app.query_one(EventsPanel)
            await wait_for(lambda: len(panel.recent_events) >= len(before), what="the history in the events panel")
            seqs = [e.seq for e in panel.recent_events]
            assert seqs == sorted(set(seqs)), "an event shown twice or out of order"
            assert seqs[: len(before)] == [e.seq for e in before]
            assert [e.message for e in panel.recent_events[: len(before)]] == [e.message for e in before]
            # scrolled all the way back (more than there is), the first event is on screen
            panel.focus()
            for _ in range(5):
                await pilot.press("pageup")
            await pilot.pause()
            screen = "\n".join(svg_lines(app.export_screenshot()))
            assert before[0].message in screen, screen
    finally:
        await source.close()
    with ControlClient(run_dir) as client:
        client.command("abort")


def test_scrolling_the_events_back_past_their_start_shows_the_oldest_page() -> None:
    events = [EventView(seq=i, t=float(i), kind="operator", level="info", message=f"event {i}") for i in range(1, 6)]
    text = str(render_events(events, 3, back=10))
    assert [line.split()[-1] for line in text.splitlines()] == ["1", "2", "3"]
