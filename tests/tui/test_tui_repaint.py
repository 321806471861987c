"""The panels and the header repaint only the rows whose content changed (Textual's line API,
tui/widgets/_lines.py), and the screen after such partial repaints is exactly what a full
redraw of the same snapshot shows: a row that changed but was not repainted would stay stale
in Textual's line cache and show up in the screenshot."""

from __future__ import annotations

from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets import GatesPanel, RatePanel
from soakwatch.tui.widgets._lines import LineWidget
from tests.tui.tui_harness import FakeSource, live_app, shown, svg_lines

SIZE = (160, 48)


async def test_partial_repaints_show_what_a_full_redraw_shows():
    steps = [
        sample_snapshot("running", seq=2, elapsed=61.0),
        sample_snapshot("running", seq=3, elapsed=61.5),
        sample_snapshot("failing", seq=4, elapsed=62.0),  # gates change status, auto-abort goes off
    ]
    source = FakeSource(sample_snapshot("running", seq=1, elapsed=60.5))
    async with live_app(source, seq=1, size=SIZE) as (app, pilot):
        await pilot.pause()
        for snap in steps:
            source.push(snap)
            await shown(app, snap.seq)
            await pilot.pause()
            partial = svg_lines(app.export_screenshot())
            widgets = list(app.query(LineWidget))
            assert any(w.last_repaint for w in widgets), "no panel took the partial path"
            for widget in widgets:
                widget.refresh()  # every row drawn again from the snapshot
            await pilot.pause()
            assert svg_lines(app.export_screenshot()) == partial, f"snapshot {snap.seq}"


async def test_a_change_repaints_only_its_rows_and_a_new_subtitle_only_the_border():
    first = sample_snapshot("running", seq=1)
    gates = list(first.gates)
    gates[1] = gates[1].model_copy(update={"observed": 7.77, "margin": 17.23})
    second = first.model_copy(update={"seq": 2, "gates": gates})
    third = second.model_copy(update={"seq": 3, "auto_abort": False})
    source = FakeSource(first)
    async with live_app(source, seq=1, size=SIZE) as (app, pilot):
        await pilot.pause()
        panel, rate = app.query_one(GatesPanel), app.query_one(RatePanel)
        rate_redraws = rate.redraws
        source.push(second)
        await shown(app, 2)
        await pilot.pause()
        assert panel.last_repaint is not None and len(panel.last_repaint) == 1
        row = panel.last_repaint[0]
        assert "7.77ms" in panel.render_line(row).text and "+17.2ms" in panel.render_line(row).text
        assert rate.redraws == rate_redraws  # its slice of the snapshot did not change
        source.push(third)
        await shown(app, 3)
        await pilot.pause()
        assert panel.last_repaint == ()  # same rows: only the border's subtitle changed
        screen = "\n".join(svg_lines(app.export_screenshot()))
        assert "auto-abort OFF" in screen and "7.77ms" in screen
