"""The Stage composition root in-process: commands, exit codes, plugin isolation, snapshots."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from soakwatch.config.profile import load_profile
from soakwatch.core.events import read_events
from soakwatch.core.plugins import Plugin
from soakwatch.core.snapshot import Snapshot
from soakwatch.stage import Stage


def _wait(pred: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _stage(sandbox: Path, tmp_path: Path, **over: object) -> Stage:
    base: dict[str, object] = {
        "target": "sw_targets:slow",
        "root": str(sandbox),
        "duration": 30.0,
        "isolation": "inline",
        "tick": 0.1,
    }
    base.update(over)
    stage = Stage(load_profile(None, base), out_dir=tmp_path / "runs")
    stage.prepare()
    return stage


def _start(stage: Stage) -> tuple[threading.Thread, list[int]]:
    code: list[int] = []
    th = threading.Thread(target=lambda: code.append(stage.run()), daemon=True)
    th.start()
    _wait(lambda: stage.state == "RUNNING" and stage.recorder.calls > 0)
    return th, code


def test_pause_resume_abort(sandbox: Path, tmp_path: Path) -> None:
    stage = _stage(sandbox, tmp_path)
    th, code = _start(stage)
    assert stage.command("pause", source="test") == "pause: ok"
    assert stage.state == "PAUSED"
    time.sleep(0.3)  # let in-flight calls finish and a tick fold them
    frozen = stage.recorder.calls
    _wait(lambda: stage.recorder.last_tick_t > 0)
    time.sleep(0.3)
    assert stage.recorder.calls == frozen
    assert stage.command("resume") == "resume: ok"
    _wait(lambda: stage.recorder.calls > frozen)
    stage.command("abort", source="test")
    th.join(20)
    assert code == [3] and stage.state == "ABORTED"
    kinds = [e["action"] for e in read_events(stage.run_dir / "events.jsonl") if e["kind"] == "operator"]  # type: ignore[operator]
    assert kinds == ["pause", "resume", "abort"]


def test_unknown_command_is_refused(sandbox: Path, tmp_path: Path) -> None:
    stage = _stage(sandbox, tmp_path, duration=None, calls=5)
    with pytest.raises(ValueError, match="unknown command"):
        stage.command("explode")
    assert stage.run() == 0


def test_gate_abort_exits_1_and_can_be_suppressed(sandbox: Path, tmp_path: Path) -> None:
    stage = _stage(sandbox, tmp_path)
    th, code = _start(stage)
    stage.command("auto_abort", {"on": False})
    stage.ctx.abort("error_ratio", "0.2 >= 0.05")
    assert stage.state == "RUNNING"
    stage.command("auto_abort", {"on": True})
    stage.ctx.abort("error_ratio", "0.2 >= 0.05")
    th.join(20)
    assert code == [1] and stage.state == "ABORTED"
    events = read_events(stage.run_dir / "events.jsonl")  # type: ignore[operator]
    assert any(e["kind"] == "abort_suppressed" for e in events)
    end = next(e for e in events if e["kind"] == "stage_end")
    assert end["exit_code"] == 1 and "error_ratio" in end["reason"]


class _Broken(Plugin):
    name = "broken"

    def tick(self, t: float) -> None:
        raise RuntimeError("collector bug")

    def view(self) -> dict[str, object]:
        raise KeyError("no view")


def test_a_failing_plugin_never_stops_the_stage(sandbox: Path, tmp_path: Path) -> None:
    stage = _stage(sandbox, tmp_path, duration=None, calls=40)
    broken = _Broken()
    broken.prepare(stage.ctx)
    stage.plugins.append(broken)
    snaps: list[Snapshot] = []
    stage.subscribers.append(snaps.append)
    assert stage.run() == 0
    assert stage.recorder.calls == 40
    errors = [e for e in read_events(stage.run_dir / "events.jsonl") if e["kind"] == "plugin_error"]  # type: ignore[operator]
    assert errors and "collector bug" in errors[0]["msg"]
    assert snaps[-1].finished and snaps[-1].exit_code == 0 and snaps[-1].reports


def test_snapshot_roundtrips_as_one_json_line(sandbox: Path, tmp_path: Path) -> None:
    stage = _stage(sandbox, tmp_path, duration=None, calls=30)
    snaps: list[Snapshot] = []
    stage.subscribers.append(snaps.append)
    stage.run()
    line = snaps[-1].model_dump_json()
    assert "\n" not in line
    back = Snapshot.model_validate_json(line)
    assert back == snaps[-1] and back.calls == 30 and back.progress == 1.0


def test_a_stage_that_ends_before_its_first_tick_counts_every_call(sandbox: Path, tmp_path: Path) -> None:
    """The last results are folded before the verdict: 50 fast calls are PASSED, not '0 of 50 calls ran'."""
    # 50 inline no-op calls end within a few ms, long before the first tick at 2 s
    stage = _stage(sandbox, tmp_path, target="sw_targets:noop", duration=None, calls=50, tick=2.0)
    assert stage.run() == 0
    assert stage.state == "PASSED" and stage.verdict == "PASSED"
    (end,) = [e for e in read_events(stage.run_dir / "events.jsonl") if e["kind"] == "stage_end"]  # type: ignore[operator]
    assert end["calls"] == 50 and end["error"] is None and end["verdict"] == "PASSED"


def test_a_stage_whose_runner_fails_is_an_error_never_a_pass(sandbox: Path, tmp_path: Path) -> None:
    """DESIGN.md: exit 4 when soakwatch itself could not run the stage as planned."""
    stage = _stage(sandbox, tmp_path, target="sw_targets:noop", duration=None, calls=50, tick=0.1)

    def broken() -> None:
        raise RuntimeError("allocator lost")

    stage.runner._slots = lambda: [broken]  # type: ignore[method-assign]
    assert stage.run() == 4
    assert stage.state == "ERROR"
    assert stage.verdict is not None and stage.verdict.startswith("ERROR: ")
    from soakwatch.core.reports import build_summary
    from soakwatch.sections import REPORT_SECTIONS

    summary = build_summary(stage.run_dir, REPORT_SECTIONS)  # type: ignore[arg-type]
    assert summary.state == "ERROR" and summary.exit_code == 4 and summary.verdict == stage.verdict


def test_verdict_line_says_what_could_not_be_seen() -> None:
    from soakwatch.core.verdict import Verdict, combine, verdict_line

    v = combine([Verdict(caveats=("2 gates not judged",)), Verdict(failed=True, reasons=("errors",)), Verdict()])
    assert v.failed and v.reasons == ("errors",) and v.error is None
    assert verdict_line("PASSED") == "PASSED"
    assert verdict_line("PASSED", v.caveats) == "PASSED, 2 gates not judged"
    assert verdict_line("ERROR", (), "0 of 1000 calls ran") == "ERROR: 0 of 1000 calls ran"
