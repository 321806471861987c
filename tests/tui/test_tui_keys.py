"""Pilot tests: every key and dialog sends the right command (or none)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label

from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.app import DETACHED
from soakwatch.tui.screens import ChaosScreen, ConfirmScreen, HelpScreen, QuitScreen, TruncateScreen
from tests.tui.tui_harness import FakeSource, live_app, shown, svg_lines, wait_for


async def test_p_pauses_a_running_stage_and_resumes_a_paused_one():
    source = FakeSource(sample_snapshot("running", seq=1))
    async with live_app(source, 1) as (app, pilot):
        await pilot.press("p")
        await wait_for(lambda: source.names() == ["pause"], what="pause sent")
        source.push(sample_snapshot("paused", seq=2))
        await shown(app, 2)
        await pilot.press("p")
        await wait_for(lambda: source.names() == ["pause", "resume"], what="resume sent")


async def test_c_lists_chaos_actions_and_sends_the_chosen_one():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source) as (app, pilot):
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ChaosScreen), what="chaos dialog")
        await pilot.press("down", "enter")
        await wait_for(lambda: source.commands == [("chaos", {"action": "latency_spike"})], what="chaos sent")
        assert not isinstance(app.screen, ChaosScreen)


async def test_c_escape_sends_nothing_and_no_actions_is_said():
    snap = sample_snapshot("running").model_copy(update={"chaos_actions": []})
    source = FakeSource(snap)
    async with live_app(source) as (app, pilot):
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ChaosScreen), what="chaos dialog")
        hint = str(app.screen.query_one("#none", Label).render())
        assert "--chaos-plan" in hint and "kill_worker" in hint  # says how to get chaos actions
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, ChaosScreen), what="dialog closed")
        assert source.commands == []


async def test_t_confirms_and_truncates_the_chosen_files():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source) as (app, pilot):
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TruncateScreen), what="truncate dialog")
        await pilot.press("n")
        await wait_for(lambda: not isinstance(app.screen, TruncateScreen), what="dialog closed")
        assert source.commands == []
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TruncateScreen), what="truncate dialog")
        await pilot.press("y")
        files = ["state/pra_log.json", "state/tul_log.json"]
        await wait_for(lambda: source.commands == [("truncate", {"files": files})], what="truncate sent")


async def test_t_space_leaves_a_file_out():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source) as (app, pilot):
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TruncateScreen), what="truncate dialog")
        await pilot.press("space", "y")
        await wait_for(lambda: source.commands == [("truncate", {"files": ["state/tul_log.json"]})], what="one file")


async def test_a_asks_before_aborting():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source) as (app, pilot):
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="confirm dialog")
        await pilot.press("n")
        await wait_for(lambda: not isinstance(app.screen, ConfirmScreen), what="dialog closed")
        assert source.commands == []
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="confirm dialog")
        await pilot.press("y")
        await wait_for(lambda: source.names() == ["abort"], what="abort sent")


async def test_g_toggles_auto_abort():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source) as (app, pilot):
        await pilot.press("g")
        await wait_for(lambda: source.commands == [("auto_abort", {"on": False})], what="auto_abort sent")
        await wait_for(lambda: bool(app._notifications), what="the toast")
        assert next(iter(app._notifications)).message.startswith("auto-abort off: gates are still judged")


async def test_s_saves_a_screenshot_into_the_run_dir_and_notes_it(tmp_path: Path):
    snap = sample_snapshot("running").model_copy(update={"run_dir": str(tmp_path)})
    source = FakeSource(snap)
    async with live_app(source) as (app, pilot):
        await pilot.press("s")
        await wait_for(lambda: source.names() == ["note"], what="note sent")
        _, args = source.commands[0]
        assert args is not None and args["action"] == "screenshot"
        path = Path(args["path"])
        assert path.parent == tmp_path and path.suffix == ".svg"
        assert "<svg" in path.read_text()
        await wait_for(lambda: bool(app._notifications), what="the toast")
        assert next(iter(app._notifications)).message == f"screenshot saved: {path}"


async def test_help_screen_opens_and_closes():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source) as (app, pilot):
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help screen")
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, HelpScreen), what="help closed")


async def test_refused_command_is_a_notification_not_a_crash():
    source = FakeSource(sample_snapshot("running"), refuse=("pause",))
    async with live_app(source) as (app, pilot):
        await pilot.press("p")
        await wait_for(lambda: any("not possible" in n.message for n in app._notifications), what="notification")
        assert app.is_running
        await pilot.press("g")
        await wait_for(lambda: "auto_abort" in source.names(), what="app still takes keys")


async def test_keys_after_the_end_send_nothing():
    source = FakeSource(sample_snapshot("finished"))
    async with live_app(source) as (app, pilot):
        await pilot.press("p", "c", "t", "a", "g")
        await pilot.pause()
        assert source.commands == []
        assert isinstance(app.screen, type(app.get_default_screen())) or not app.screen.is_modal
        footer = svg_lines(app.export_screenshot())[-1]  # only the keys that still work are offered
        assert "Quit" in footer and "Keys" in footer
        assert not any(word in footer for word in ("Pause", "Chaos", "Truncate", "Abort", "Auto-abort"))


async def test_q_after_the_end_quits_with_the_final_snapshot():
    source = FakeSource(sample_snapshot("running", seq=1), sample_snapshot("finished", seq=2))
    async with live_app(source, 2) as (app, pilot):
        assert app.query_one("#verdict").display
        await pilot.press("q")
        await wait_for(lambda: not app.is_running, what="app exit")
    assert app.last_snapshot is not None and app.last_snapshot.exit_code == 1
    assert source.commands == []


async def test_q_while_running_can_keep_the_stage_running():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source) as (app, pilot):
        await pilot.press("q")
        await wait_for(lambda: isinstance(app.screen, QuitScreen), what="quit dialog")
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, QuitScreen), what="dialog closed")
        assert app.is_running
        await pilot.press("q")
        await wait_for(lambda: isinstance(app.screen, QuitScreen), what="quit dialog")
        await pilot.press("k")
        await wait_for(lambda: not app.is_running, what="app exit")
    assert source.commands == []
    # k ends the UI the way d does, so `run` prints the attach command and returns, as `attach` does
    assert app.return_value == DETACHED


async def test_q_while_running_can_abort_and_quit_when_the_stage_ends():
    source = FakeSource(sample_snapshot("running", seq=1))
    async with live_app(source) as (app, pilot):
        await pilot.press("q")
        await wait_for(lambda: isinstance(app.screen, QuitScreen), what="quit dialog")
        await pilot.press("a")
        await wait_for(lambda: source.names() == ["abort"], what="abort sent")
        assert app.is_running  # waits for the stage's final snapshot
        source.push(sample_snapshot("finished", seq=2))
        await wait_for(lambda: not app.is_running, what="app exit")
    assert app.last_snapshot is not None and app.last_snapshot.finished


async def test_slash_filters_the_output_when_it_has_the_focus():
    source = FakeSource(sample_snapshot("running"))
    async with live_app(source, size=(160, 48)) as (app, pilot):
        app.query_one("#output").focus()
        await pilot.press("slash", *"ERROR", "enter")
        from soakwatch.tui.widgets.output import OutputLines

        lines = app.query_one(OutputLines)
        await wait_for(lambda: lines.needle == "ERROR", what="filter applied")
        assert source.commands == []  # the letters went to the filter, not to the keys
