"""Pilot tests of the panel keys: toggles 1–9 and 0, Tab focus, z maximise, scrolling,
the latency percentile (l) and heatmap (h), the events filter (f) and search (/)."""

from __future__ import annotations

import re

import pytest

from soakwatch.core.snapshot import EventView
from soakwatch.tui._deck import PANEL_KEYS
from soakwatch.tui._heatmap import SHADES
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets import EventsPanel, LatencyPanel
from soakwatch.tui.widgets.gates import render_gates
from tests.tui.tui_harness import FakeSource, live_app, svg_lines, wait_for


def _shown(app) -> list[str]:
    return app.deck.shown() if app.deck is not None else []


@pytest.mark.parametrize("key", sorted(PANEL_KEYS))
async def test_number_keys_toggle_their_panel(key: str):
    pid = PANEL_KEYS[key]
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source, size=(160, 48)) as (app, pilot):
        await wait_for(lambda: bool(_shown(app)), what="first layout")
        before = pid in _shown(app)
        await pilot.press(key)
        empty = pid in ("nodes", "endpoints")
        await wait_for(lambda: (pid in _shown(app)) != before or empty, what=f"{pid} toggled")
        if empty:  # a callable stage has no nodes and no request mix: the key says so and nothing appears
            assert pid not in _shown(app)
            return
        await pilot.press(key)
        await wait_for(lambda: (pid in _shown(app)) == before, what=f"{pid} back")


async def test_a_panel_that_did_not_fit_is_listed_and_comes_back_with_its_key():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source, size=(80, 24)) as (app, pilot):
        await wait_for(lambda: bool(_shown(app)), what="first layout")
        more = str(app.query_one("#more").render())
        assert "events (9)" in more and "events" not in _shown(app)
        await pilot.press("9")
        await wait_for(lambda: "events" in _shown(app), what="events shown")
        assert app.focused is app.query_one(EventsPanel)


async def test_tab_moves_focus_and_z_maximises_the_focused_panel():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source, size=(120, 40)) as (app, pilot):
        await wait_for(lambda: bool(_shown(app)), what="first layout")
        await pilot.press("tab")
        first = app.focused
        assert first is not None and first.id in _shown(app)
        await pilot.press("tab")
        assert app.focused is not None and app.focused is not first
        focused = app.focused.id
        await pilot.press("z")
        await wait_for(lambda: _shown(app) == [focused], what="maximised")
        await pilot.press("z")
        await wait_for(lambda: len(_shown(app)) > 1, what="back to the dashboard")


async def test_arrows_and_pages_scroll_the_focused_panel():
    many = [EventView(seq=i, t=float(i), kind="operator", level="info", message=f"note {i}") for i in range(1, 60)]
    snap = sample_snapshot("running").model_copy(update={"events": many})
    source = FakeSource(snap)
    async with live_app(source, size=(160, 48)) as (app, pilot):
        events = app.query_one(EventsPanel)
        events.focus()
        await wait_for(lambda: app.focused is events, what="events focused")
        await pilot.press("pageup")
        assert events.scroll_rows == 10
        await pilot.press("up")  # the events are a log: up goes further back
        assert events.scroll_rows == 11
        await pilot.press("down", "down")
        assert events.scroll_rows == 9
        await pilot.press("pagedown", "pagedown")
        assert events.scroll_rows == 0


async def test_gates_scroll_shows_the_later_gates():
    snap = sample_snapshot("running")
    from tests.tui.test_tui_render import text

    first = text(render_gates(snap, height=3, width=100, skip=0), width=100)
    later = text(render_gates(snap, height=3, width=100, skip=2), width=100)
    assert "errors under 2%" in first and "errors under 2%" not in later
    assert "dag unchanged" in later


async def test_l_cycles_the_latency_percentile():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source, size=(120, 40)) as (app, pilot):
        latency = app.query_one(LatencyPanel)
        assert latency.percentile == "p95"
        await pilot.press("l")
        assert latency.percentile == "p99"
        await pilot.press("l")
        assert latency.percentile == "p50"
        assert "p50" in str(latency.border_subtitle)


async def test_h_swaps_the_latency_chart_for_the_heatmap_and_back():
    snap = sample_snapshot("running")
    source = FakeSource(snap)
    async with live_app(source, size=(160, 48)) as (app, pilot):
        latency = app.query_one(LatencyPanel)
        await pilot.pause()
        assert not latency.heat and "h heatmap" in str(latency.border_subtitle)
        chart_screen = "\n".join(svg_lines(app.export_screenshot()))
        assert "20ms ┤" not in chart_screen
        await pilot.press("h")
        await pilot.pause()
        assert latency.heat and "heatmap, calls/tick (h)" in str(latency.border_subtitle)
        screen = "\n".join(svg_lines(app.export_screenshot()))
        # the sample's buckets with calls, slowest at the top: the chaos window's 20–50 ms down to 0.5 ms
        labels = [label for line in screen.splitlines() for label in re.findall(r"([\d.]+m?s) ┤", line)]
        assert labels[:6] == ["20ms", "10ms", "5ms", "2ms", "1ms", "0.5ms"], screen
        assert any(shade in screen for shade, _ in SHADES)
        await pilot.press("h")
        await pilot.pause()
        assert not latency.heat and "20ms ┤" not in "\n".join(svg_lines(app.export_screenshot()))


async def test_f_filters_events_and_slash_searches_them():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source, size=(160, 48)) as (app, pilot):
        events = app.query_one(EventsPanel)
        await pilot.press("f")
        assert events.filter_name == "warn+error"
        await pilot.press("slash", *"truncated", "enter")
        await wait_for(lambda: events.needle == "truncated", what="search applied")
        assert source.commands == []  # the letters went to the search, not to the keys
        assert app.focused is events
