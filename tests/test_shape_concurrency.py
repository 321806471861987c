"""Concurrency shapes (``[[shape]] concurrency = N``): the slot gate itself, the profile's checks,
and stages whose targets keep their own record of the calls in flight.

The must-show stage: 2 s at 4 calls in flight, 2 s idle, 2 s at 8, against a Python target that
logs every call's entry and exit with its own clock (tests/targets/sw_inflight.py). Replaying that
log, the target saw exactly 4 calls at once in the first segment, none start in the gap and exactly
8 at once in the last; soakwatch counts the same calls, and its timeline plans 4, 0, 8.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.config.profile import validate_profile
from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.sections import REPLAY_PLUGINS
from soakwatch.targets.cmd import CmdRunner
from soakwatch.targets.http import HttpRunner
from soakwatch.targets.process_runner import ProcessRunner
from soakwatch.targets.runner import Plan
from soakwatch.targets.slot_shape import SlotLevels
from soakwatch.targets.spec import parse_target
from soakwatch.views.headless import status_line
from soakwatch.views.replay import ReplaySource, snapshot_at
from tests.helpers import only_run_dir, run_cli
from tests.load_helpers import slow_server

NS = 1_000_000_000


def replay(log: Path) -> tuple[float, list[float], list[tuple[float, int]]]:
    """(first entry, every entry time, (time, calls in flight after it) at each entry and exit) from a
    target's own ``+ T`` / ``- T`` log."""
    marks = sorted((float(t), 1 if s == "+" else -1) for s, t in (ln.split() for ln in log.read_text().splitlines()))
    enters = [t for t, d in marks if d == 1]
    level, steps = 0, []
    for t, d in marks:
        level += d
        steps.append((t, level))
    return enters[0], enters, steps


def most_at_once(steps: list[tuple[float, int]], t0: float, t1: float) -> int:
    return max((n for t, n in steps if t0 <= t < t1), default=0)


def test_levels_follow_segments_ramps_and_pauses() -> None:
    lv = SlotLevels([(2.0, 4, 4), (2.0, 0, 0), (2.0, 8, 8), (4.0, 0, 8)])
    lv.start(0)
    assert lv.peak == 8
    assert [lv.level(t * NS // 2) for t in range(0, 13)] == [4, 4, 4, 4, 0, 0, 0, 0, 8, 8, 8, 8, 0]
    assert lv.level(7 * NS) == 2 and lv.level(int(9.9 * NS)) == 8 and lv.level(10 * NS) == 0  # the ramp, then the end
    assert lv.check(3, NS) == 0 and lv.check(4, NS) > 0  # slot 4 waits while the level is 4 ...
    assert lv.check(0, 3 * NS) == NS // 20  # ... and in the gap a slot sleeps at most 50 ms at a time
    lv.pause(NS)
    assert lv.level(5 * NS) == 4  # the shape stands still while paused
    lv.resume(3 * NS)
    assert lv.level(int(3.5 * NS)) == 4 and lv.level(int(4.5 * NS)) == 0  # and the rest moved by 2 s


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"shape": [{"concurrency": 4, "for": "2s"}, {"rate": 5, "for": "1s"}]}, r"shape\[1\]\.rate = 5"),
        ({"shape": [{"rate": 5, "for": "2s"}, {"concurrency": 4, "for": "1s"}]}, r"shape\[1\]\.concurrency = 4"),
        ({"shape": [{"rate": 5, "concurrency": 4, "for": "1s"}]}, "one of them"),
        ({"rate": 10.0}, "rate = 10: a concurrency"),
        ({"shape": [{"concurrency": "many", "for": "1s"}]}, r"a ramp \('1->16'\)"),
        ({"shape": [{"concurrency": 0, "for": "1s"}]}, "plans no call"),
        ({"concurrency": 3}, "concurrency = 3"),
    ],
)
def test_bad_concurrency_shapes_are_usage_errors(fields: dict[str, object], needle: str) -> None:
    data: dict[str, object] = {
        "name": "s",
        "target": "http://127.0.0.1:9/x",
        "shape": [{"concurrency": 4, "for": "2s"}],
    }
    with pytest.raises(UsageError, match=needle) as err:
        validate_profile({**data, **fields}, "p.toml")
    assert "p.toml" in str(err.value)


def test_a_concurrency_shape_is_the_closed_model_at_its_peak() -> None:
    shape = [{"concurrency": "1->6", "for": "2s"}, {"concurrency": 0, "for": "1s"}]
    p = validate_profile({"name": "s", "target": "sw_targets:noop", "shape": shape}, "p")
    assert (p.concurrency, p.duration, p.open_model, p.isolation) == (6, 3.0, False, "process")


def test_a_mixed_shape_is_refused_by_the_cli_with_exit_2(tmp_path: Path) -> None:
    profile = tmp_path / "mixed.toml"
    profile.write_text(
        'name = "m"\ntarget = "http://127.0.0.1:9/x"\n[[shape]]\nconcurrency = 4\nfor = "1s"\n'
        '[[shape]]\nrate = 5\nfor = "1s"\n'
    )
    r = run_cli(["validate", str(profile)], cwd=tmp_path)
    assert r.returncode == 2 and "mixed.toml" in r.stderr and "shape[1].rate = 5" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_four_then_idle_then_eight_in_flight_as_the_target_saw_them(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "inflight.log"
    monkeypatch.setenv("SW_INFLIGHT_LOG", str(log))
    profile = tmp_path / "cshape.toml"
    profile.write_text(
        f'name = "cshape"\ntarget = "sw_inflight:call"\nroot = "{sandbox}"\nisolation = "inline"\ntick = "250ms"\n'
        '[[shape]]\nconcurrency = 4\nfor = "2s"\n[[shape]]\nconcurrency = 0\nfor = "2s"\n'
        '[[shape]]\nconcurrency = 8\nfor = "2s"\n'
    )
    out = tmp_path / "runs"
    r = run_cli(["run", "--profile", str(profile), "--no-tui", "--out-dir", str(out)], cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    t0, enters, steps = replay(log)
    gap = (t0 + 2.0 + STARTUP_SLACK, t0 + 3.8)  # the idle segment, with room for a loaded machine's lag
    assert most_at_once(steps, t0, gap[0]) == 4  # the target itself saw 4 at once, never more
    assert not [t for t in enters if gap[0] < t < gap[1]]  # no call started in the gap ...
    assert most_at_once(steps, gap[0] + 0.2, gap[1]) == 0  # ... and none ran in it
    assert most_at_once(steps, gap[1], t0 + 7.0) == 8
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == len(enters) == len(steps) // 2 and summary["errors"] == 0
    assert (
        "4 in flight for 2.0s, 0 in flight for 2.0s, 8 in flight for 2.0s (closed model)"
        in (run_dir / "summary.md").read_text()
    )
    with (run_dir / "timeline.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    planned = [int(float(row["planned_concurrency"])) for row in rows]
    in_flight = [int(float(row["in_flight"])) for row in rows]
    assert planned[0] == 4 and 0 in planned and 8 in planned
    first_idle, first_eight = planned.index(0), planned.index(8)
    assert set(planned[:first_idle]) == {4} and set(planned[first_idle:first_eight]) == {0}
    assert max(in_flight[:first_idle]) == 4 and max(in_flight) == 8
    assert set(in_flight[first_idle + 2 : first_eight]) == {0}  # soakwatch saw the gap as the target did
    assert "planned_concurrency" in (run_dir / "report.html").read_text()
    source = ReplaySource(run_dir, REPLAY_PLUGINS)  # attach on the finished run: the same plan at each row
    assert snapshot_at(source.run, first_eight, REPLAY_PLUGINS).series["planned_concurrency"][-1] == 8


def _recorder() -> Recorder:
    return Recorder(None, EventLog(None))


#: 0.8 s at 2, 1.2 s idle, 0.8 s at 3
SHORT = ((0.8, 2, 2), (1.2, 0, 0), (0.8, 3, 3))
#: a target stamps a call when it runs, after its process started (a command's interpreter): on a
#: loaded machine that lags the slot's start by up to this much, so the windows give it room
STARTUP_SLACK = 0.3


def _check_short(log: Path, calls: int) -> None:
    t0, enters, steps = replay(log)
    gap_end = t0 + 2.0 - 0.05
    assert most_at_once(steps, t0, t0 + 0.8 + STARTUP_SLACK) == 2
    assert not [t for t in enters if t0 + 0.8 + STARTUP_SLACK < t < gap_end]  # no call started in the gap
    assert most_at_once(steps, gap_end, t0 + 4.0) == 3
    assert calls == len(enters) == len(steps) // 2


def test_process_workers_follow_the_shape(sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "inflight.log"
    monkeypatch.setenv("SW_INFLIGHT_LOG", str(log))
    rec = _recorder()
    plan = Plan(calls=None, duration=2.8, concurrency=3, levels=SHORT)
    runner = ProcessRunner(plan, rec, parse_target("sw_inflight:call"), sandbox, None)
    runner.prepare()
    runner.run()
    rec.tick()
    assert rec.errors == 0
    _check_short(log, rec.calls)


def test_cmd_calls_follow_the_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "inflight.log"
    monkeypatch.setenv("SW_INFLIGHT_LOG", str(log))
    script = Path(__file__).parent / "targets" / "sw_inflight.py"
    rec = _recorder()
    plan = Plan(calls=None, duration=2.8, concurrency=3, levels=SHORT)
    runner = CmdRunner(plan, rec, parse_target(f"cmd:{sys.executable} {script}"), tmp_path, None)
    runner.prepare()
    runner.run()
    rec.tick()
    assert rec.errors == 0, rec.kinds
    _check_short(log, rec.calls)


def test_http_requests_follow_the_shape(tmp_path: Path) -> None:
    with slow_server(tmp_path, 0.05) as srv:
        rec = _recorder()
        plan = Plan(calls=None, duration=2.8, concurrency=3, levels=SHORT)
        runner = HttpRunner(plan, rec, parse_target(srv.url), None, None, config=HttpConfig())
        runner.prepare()
        runner.run()
        rec.tick()
        stats = srv.stats()
        arrivals = sorted(t for t, _, _ in srv.answers())
    assert stats["max_in_flight"] == 3  # the server's own count: never more than the peak
    assert stats["received"] == stats["answered"] == rec.calls and rec.errors == 0
    t0 = arrivals[0]
    assert not [t for t in arrivals if t0 + 0.8 + STARTUP_SLACK < t < t0 + 1.95]  # nothing arrived in the gap


def test_the_rate_panel_draws_calls_in_flight_with_the_planned_level() -> None:
    from rich.console import Console

    from soakwatch.tui._sample import sample_snapshot
    from soakwatch.tui.widgets.rate import render_rate

    levels = [4.0] * 8 + [0.0] * 8 + [8.0] * 8
    snap = sample_snapshot("running")
    series = {**snap.series, "planned_concurrency": levels, "in_flight": [4.0] * 8 + [0.0] * 8 + [6.0] * 8}
    snap = snap.model_copy(update={"series": series, "in_flight": 6})
    console = Console(width=80, color_system="truecolor", force_terminal=True)
    segments = list(console.render(render_rate(snap, 12, 80), console.options))
    text = "".join(seg.text for seg in segments)
    blue = "".join(s.text for s in segments if s.style and s.style.color and s.style.color.name == "blue")
    assert "planned in flight 8" in text and blue.strip()  # the level now, and the plan drawn in blue
    plain = sample_snapshot("running")
    assert "planned in flight" not in "".join(s.text for s in console.render(render_rate(plain, 12, 80)))
    assert ", 6 in flight of 8 planned |" in status_line(snap)  # the headless status line says it too
    assert "planned" not in status_line(plain)


def test_a_pause_stops_the_shape_and_resume_shifts_it(sandbox: Path) -> None:
    from soakwatch.targets.runner import InlineRunner

    plan = Plan(calls=None, duration=6.0, concurrency=8, levels=((2.0, 4, 4), (2.0, 0, 0), (2.0, 8, 8)))
    runner = InlineRunner(plan, _recorder(), parse_target("sw_targets:noop"), sandbox, None)
    lv = runner.levels
    assert lv is not None and runner.planned_concurrency == 4
    runner.pause()
    assert runner.planned_concurrency == 0  # paused: no call may start
    at = lv.origin + NS  # what the shape says one second in, before and after the pause
    level_before = lv.level(at)
    runner.resume()
    assert lv.shift > 0 and runner.planned_concurrency == 4
    assert level_before == 4 and lv.level(lv.origin + lv.shift + 3 * NS) == 0  # the gap moved by the pause
