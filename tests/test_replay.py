"""Replay: a recorded run dir read back as snapshots (numbers from timeline rows), and the TUI's cursor keys."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from soakwatch.cli import main
from soakwatch.core.source import CommandError
from soakwatch.sections import REPLAY_PLUGINS
from soakwatch.tui.app import make_app
from soakwatch.tui.widgets.replay import ReplayBar, render_replay
from soakwatch.views.replay import ReplaySource, snapshot_at
from tests.tui.tui_harness import wait_for


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run with errors (1 % of calls fail), recorded once for the module."""
    base = tmp_path_factory.mktemp("replay")
    root = base / "root"
    shutil.copytree(Path(__file__).parent / "targets", root)
    with (root / "cases.jsonl").open("w") as fh:
        fh.writelines(json.dumps({"i": i}) + "\n" for i in range(1000))
    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    mp.delenv("SOAKWATCH_ROOT", raising=False)
    mp.setenv("SOAKWATCH_STATE_DIR", str(base / "state"))
    try:
        code = main([
            "run", "--target", "sw_targets:flaky", "--root", str(root), "--cases", "cases.jsonl", "--calls", "400",
            "--rate", "200", "--isolation", "inline", "--out-dir", str(base / "runs"), "--no-tui", "--set", "tick=0.1",
        ])  # fmt: skip
    finally:
        mp.undo()
    assert code in (0, 1)
    (run_dir,) = (base / "runs").iterdir()
    return run_dir


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "timeline.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_snapshots_match_the_timeline_rows(recorded: Path) -> None:
    source = ReplaySource(recorded, REPLAY_PLUGINS)
    rows = _rows(recorded)
    assert source.rows == len(rows) > 5
    for i in (0, len(rows) // 3, len(rows) // 2, len(rows) - 2):
        snap = snapshot_at(source.run, i, REPLAY_PLUGINS)
        row = rows[i]
        assert snap.elapsed == pytest.approx(float(row["t"]))
        assert (snap.calls, snap.errors, snap.timeouts) == (int(row["calls"]), int(row["errors"]), int(row["timeouts"]))
        assert snap.rate == pytest.approx(float(row["rate"]))
        assert snap.latency["p95"] == pytest.approx(float(row["p95_ms"]))
        assert snap.series["rate"][-1] == pytest.approx(float(row["rate"]))
        assert snap.state == "RUNNING" and snap.exit_code is None
        assert all(e.t < float(rows[i + 1]["t"]) for e in snap.events)  # what was there before the next tick
        assert sum(k.count for k in snap.error_kinds) == snap.errors + snap.timeouts
        assert snap.extra["replay"]["index"] == i


def test_the_last_row_carries_the_verdict(recorded: Path) -> None:
    source = ReplaySource(recorded, REPLAY_PLUGINS)
    summary = json.loads((recorded / "summary.json").read_text())
    snap = source.snapshot()
    assert source.cursor == source.rows - 1 and snap.finished
    assert (snap.state, snap.exit_code, snap.calls) == (summary["state"], summary["exit_code"], summary["calls"])
    assert snap.latency_run["p99"] == pytest.approx(summary["latency"]["p99"])
    assert {k.kind for k in snap.error_kinds} == {e["kind"] for e in summary["errors_by_kind"]}
    assert any(e.kind == "stage_end" for e in snap.events)
    assert str(recorded / "summary.md") in snap.reports


async def test_seek_moves_the_cursor_and_other_commands_are_refused(recorded: Path) -> None:
    source = ReplaySource(recorded, REPLAY_PLUGINS)
    assert (await source.command("seek", {"to": "start"})).startswith("row 1/")
    assert source.cursor == 0
    await source.command("seek", {"by": 3})
    await source.command("seek", {"by": -10})
    assert source.cursor == 0
    await source.command("seek", {"index": 10_000})
    assert source.cursor == source.rows - 1
    for name in ("pause", "abort", "chaos"):
        with pytest.raises(CommandError, match="replay"):
            await source.command(name)
    with pytest.raises(CommandError):
        await source.command("seek", {"sideways": 1})


def test_a_crashed_run_replays_without_a_summary(recorded: Path, tmp_path: Path) -> None:
    crashed = tmp_path / "crashed"
    shutil.copytree(recorded, crashed)
    (crashed / "summary.json").unlink()
    events = [line for line in (crashed / "events.jsonl").read_text().splitlines() if '"stage_end"' not in line]
    (crashed / "events.jsonl").write_text("\n".join(events) + "\n")
    lines = (crashed / "timeline.csv").read_text().splitlines()
    (crashed / "timeline.csv").write_text("\n".join(lines[:-3]) + "\n" + lines[-3][:10])  # a torn last row
    source = ReplaySource(crashed, REPLAY_PLUGINS)
    assert source.rows == len(lines) - 4
    snap = source.snapshot()
    assert snap.state == "INTERRUPTED" and snap.exit_code is None and snap.latency_run == {}
    assert snap.calls == int(_rows(crashed)[-2]["calls"])  # the last whole row


async def test_cursor_keys_in_the_tui(recorded: Path) -> None:
    source = ReplaySource(recorded, REPLAY_PLUGINS)
    app = make_app(source, replay=True)
    async with app.run_test(size=(120, 40)) as pilot:

        def index() -> int | None:
            snap = app.snapshot
            return None if snap is None else int(snap.extra["replay"]["index"])

        last = source.rows - 1
        await wait_for(lambda: index() == last, what="the end of the run")
        assert app.query_one(ReplayBar).snapshot is app.snapshot
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(render_replay(app.snapshot))
        assert f"row {last + 1}/{last + 1}" in console.export_text()
        await pilot.press("home")
        await wait_for(lambda: index() == 0, what="the start")
        await pilot.press("right")
        await wait_for(lambda: index() == 1, what="one row on")
        await pilot.press("shift+right")
        await wait_for(lambda: index() == 11, what="ten rows on")
        await pilot.press("left")
        await wait_for(lambda: index() == 10, what="one row back")
        assert app.snapshot is not None and app.snapshot.state == "RUNNING"
        await pilot.press("p", "a")  # stage commands: refused politely, nothing sent
        await wait_for(lambda: len(app._notifications) >= 1, what="the refusal")
        assert "replay" in next(iter(app._notifications)).message
        await pilot.press("end")
        await wait_for(lambda: index() == last and app.snapshot is not None and app.snapshot.finished, what="the end")
        await pilot.press("q")
    await source.close()


def test_series_that_appeared_mid_run_are_replayed(recorded: Path, tmp_path: Path) -> None:
    run = tmp_path / "late"
    shutil.copytree(recorded, run)
    rows = _rows(run)
    t_late = [r["t"] for r in rows[len(rows) // 2 :]]
    (run / "timeline_extra.csv").write_text(
        "t,series,value\n" + "".join(f"{t},rss_mb[worker-7],{40 + k}\n" for k, t in enumerate(t_late))
    )
    source = ReplaySource(run, REPLAY_PLUGINS)
    assert source.snapshot().processes  # at the last row the late process is there
    procs = {p.name: p for p in source.snapshot().processes}
    assert procs["worker-7"].rss_mb == 40 + len(t_late) - 1
