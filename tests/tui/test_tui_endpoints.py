"""The endpoints panel of a request mix (``[[http.requests]]``): its rows, its collapse with one
endpoint, its key (e), and SVG snapshots at 120×40 and 80×24 with no number cut."""

from __future__ import annotations

import pytest
from rich.console import Console

from soakwatch.core.snapshot import EndpointView, Snapshot
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.app import make_app
from soakwatch.tui.widgets.endpoints import render_endpoints
from tests.tui.test_tui_snapshots import _ready, cut_numbers
from tests.tui.tui_harness import FakeSource, live_app, wait_for

ENDPOINTS = [
    EndpointView(name="chat", calls=1680, errors=12, p50_ms=41.2, p95_ms=187.5),
    EndpointView(name="embeddings", calls=480, errors=0, p50_ms=8.31, p95_ms=22.4),
    EndpointView(name="models", calls=240, errors=3, p50_ms=0.92, p95_ms=2.05),
]


def _mix(endpoints: list[EndpointView] = ENDPOINTS) -> Snapshot:
    return sample_snapshot("running").model_copy(update={"endpoints": endpoints})


def _text(snap: Snapshot, width: int, height: int = 6) -> list[str]:
    console = Console(width=width, record=True, color_system=None, file=None)
    with console.capture() as cap:
        console.print(render_endpoints(snap, height, width))
    return cap.get().splitlines()


def test_rows_show_calls_share_errors_and_percentiles() -> None:
    lines = _text(_mix(), 60)
    assert lines[0].split() == ["endpoint", "calls", "share", "errors", "p50", "p95"]
    assert lines[1].split() == ["chat", "1,680", "70.0%", "12", "41.20ms", "187.5ms"]
    assert lines[2].split() == ["embeddings", "480", "20.0%", "0", "8.31ms", "22.40ms"]
    assert lines[3].split() == ["models", "240", "10.0%", "3", "920µs", "2.05ms"]


@pytest.mark.parametrize("width", [14, 20, 30, 38, 44])
def test_a_narrow_panel_leaves_out_columns_but_never_cuts_a_number(width: int) -> None:
    lines = _text(_mix(), width)
    assert all(len(line) <= width for line in lines) and cut_numbers(lines) == []
    assert "1,680" in lines[1]  # the calls always show


async def test_the_panel_collapses_with_one_endpoint_and_e_toggles_it() -> None:
    one = FakeSource(_mix(ENDPOINTS[:1]))
    async with live_app(one, size=(160, 48)) as (app, _):
        await wait_for(lambda: app.deck is not None and bool(app.deck.shown()), what="first layout")
        assert app.query_one("#endpoints").has_class("-collapsed")
    source = FakeSource(_mix())
    async with live_app(source, size=(160, 48)) as (app, pilot):

        def shown() -> list[str]:
            return app.deck.shown() if app.deck is not None else []

        await wait_for(lambda: "endpoints" in shown(), what="endpoints shown")
        await pilot.press("e")
        await wait_for(lambda: "endpoints" not in shown(), what="endpoints hidden by e")
        await pilot.press("e")
        await wait_for(lambda: "endpoints" in shown(), what="endpoints back with e")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_endpoints_screen(snap_compare, size: tuple[int, int]) -> None:
    keys = ["e"] if size == (80, 24) else []  # at 80×24 it does not fit first: e brings it in
    assert snap_compare(make_app(FakeSource(_mix())), terminal_size=size, run_before=_ready(keys))
