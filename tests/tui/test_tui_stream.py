"""The snapshot stream: coalescing, bounded events, collapsing panels, a lost stage."""

from __future__ import annotations

from soakwatch.core.snapshot import EventView
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.app import MAX_EVENTS, make_app
from soakwatch.tui.widgets import EventsPanel, FilesPanel, RatePanel
from tests.tui.tui_harness import FakeSource, shown, wait_for

SIZE = (100, 30)


def _event(seq: int) -> EventView:
    return EventView(seq=seq, t=seq / 10, kind="operator", level="info", message=f"event {seq}")


async def test_a_backlog_collapses_but_no_event_is_lost():
    source = FakeSource(sample_snapshot("running", seq=0))
    app = make_app(source, refresh_hz=1.0)
    async with app.run_test(size=SIZE):
        await shown(app, 0)
        base = sample_snapshot("running")
        for seq in range(1, 51):
            source.push(base.model_copy(update={"seq": seq, "events": [_event(seq)]}))
        await shown(app, 50)
        assert app.applied < 51  # coalesced: fewer repaints than snapshots
        panel = app.query_one(EventsPanel)
        seqs = [e.seq for e in panel.recent_events]
        assert seqs[-50:] == list(range(1, 51))
        assert len(seqs) <= MAX_EVENTS


async def test_events_are_bounded(monkeypatch):
    monkeypatch.setattr("soakwatch.tui.app.MAX_EVENTS", 200)
    source = FakeSource()
    app = make_app(source)
    async with app.run_test(size=SIZE):
        base = sample_snapshot("running")
        for seq in range(1, 6):
            events = [_event(seq * 1000 + i) for i in range(100)]
            source.push(base.model_copy(update={"seq": seq, "events": events}))
        await shown(app, 5)
        assert len(app.recent_events) == 200
        assert app.recent_events[-1].seq == 5099


async def test_a_panel_with_nothing_to_show_collapses_and_comes_back():
    empty = sample_snapshot("running", seq=1).model_copy(update={"files": []})
    source = FakeSource(empty)
    app = make_app(source)
    async with app.run_test(size=SIZE):
        await shown(app, 1)
        files = app.query_one(FilesPanel)
        assert files.has_class("-collapsed") and not files.display
        source.push(sample_snapshot("running", seq=2))
        await shown(app, 2)
        assert not files.has_class("-collapsed")
        deck = app.deck
        assert deck is not None
        # on screen, or named in the one-line "more:" hint
        await wait_for(lambda: deck.plan is not None and ("files" in deck.shown() or "files" in deck.plan.more))


async def test_a_panel_repaints_only_when_its_part_changed():
    snap = sample_snapshot("running", seq=1)
    source = FakeSource(snap)
    app = make_app(source)
    async with app.run_test(size=SIZE):
        await shown(app, 1)
        rate, files = app.query_one(RatePanel), app.query_one(FilesPanel)
        before = (rate.redraws, files.redraws)
        source.push(snap.model_copy(update={"seq": 2, "rate": snap.rate + 1}))
        await shown(app, 2)
        assert rate.redraws == before[0] + 1
        assert files.redraws == before[1]


async def test_a_lost_stage_is_shown_and_q_quits_at_once():
    source = FakeSource(sample_snapshot("running"))
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await shown(app)
        source.end()
        await wait_for(lambda: app.stream_note == "stream ended", what="stream note")
        await pilot.press("p")
        await pilot.press("q")
        await wait_for(lambda: not app.is_running, what="app exit")
    assert source.commands == []


async def test_refresh_rate_must_be_positive():
    import pytest

    with pytest.raises(ValueError, match="refresh_hz"):
        make_app(FakeSource(), refresh_hz=0)


async def test_the_collector_is_quieted_while_the_dashboard_runs_and_restored_after():
    import gc

    from soakwatch.tui._gc import GEN0_THRESHOLD

    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    app = make_app(FakeSource(sample_snapshot("running")))
    async with app.run_test(size=SIZE):
        await shown(app)
        await wait_for(lambda: gc.get_freeze_count() > 0, what="long-lived objects frozen")
        assert gc.get_threshold()[0] == max(GEN0_THRESHOLD, before[0])
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
