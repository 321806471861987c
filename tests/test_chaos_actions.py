"""Chaos actions in a real stage: recorded in chaos_events.log and events.jsonl, kept inside the sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soakwatch.chaos.plugin import CHAOS_LOG
from soakwatch.config.errors import SandboxError, UsageError
from soakwatch.config.profile import load_profile
from soakwatch.control.client import ControlClient
from soakwatch.core.events import read_events
from soakwatch.core.source import CommandError
from soakwatch.demo import prepare_sandbox
from soakwatch.stage import Stage
from tests.helpers import Running

WAIT = 60.0


@pytest.fixture
def demo_root(tmp_path: Path) -> Path:
    return prepare_sandbox(tmp_path / "sandbox")


def stage_with(root: Path, out: Path, chaos: list[dict[str, Any]], **over: Any) -> Stage:
    data = {
        "target": "soakwatch.demo:run_model",
        "root": str(root),
        "cases": "cases.jsonl",
        "calls": 400,
        "rate": 50.0,
        "concurrency": 2,
        "isolation": "process",
        "chaos": chaos,
        **over,
    }
    return Stage(load_profile(None, data, ["tick=0.1"]), out_dir=out, cwd=root)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for r in started:
        if r.thread.is_alive():
            r.stage.command("abort", source="test")
            r.thread.join(WAIT)


def events_of(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == kind]


def wait_for(pred: Any, timeout: float = WAIT, run_dir: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := pred()):
        if time.monotonic() > deadline:
            chaos = (run_dir / CHAOS_LOG).read_text() if run_dir else ""
            tail = [e for e in read_events(run_dir / "events.jsonl")][-30:] if run_dir else []
            raise AssertionError(f"condition not met in time\n{chaos}\n" + "\n".join(map(str, tail)))
        time.sleep(0.05)
    return value


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "x", "action": "write_file", "content": {"a": 1}, "duration": 1}, "write_file needs 'path'"),
        ({"name": "x", "action": "write_file", "path": "f.json", "duration": 1}, "needs 'content'"),
        ({"name": "x", "action": "pause_worker"}, "pause_worker needs a 'duration'"),
        ({"name": "x", "action": "kill_worker", "path": "f.json"}, "'path' is not used by kill_worker"),
        ({"name": "x", "action": "explode"}, "chaos.0.action"),
        ({"name": "x y", "action": "kill_worker"}, "chaos.0.name"),
        ({"name": "x", "action": "kill_worker", "at": "soon"}, "not a duration"),
    ],
)
def test_bad_chaos_specs_are_usage_errors(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_profile(None, {"target": "m:f", "calls": 1, "chaos": [spec]})


def test_paths_outside_the_sandbox_are_refused_before_the_stage(demo_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (demo_root / "state" / "evil").symlink_to(outside)
    for path in ("../outside/x.json", "state/evil/x.json", str(outside / "x.json")):
        stage = stage_with(
            demo_root,
            tmp_path / "runs",
            [{"name": "burst", "action": "write_file", "path": path, "content": {"errors": 1}, "duration": 1}],
        )
        with pytest.raises(SandboxError, match=r"chaos\[0\]\.path"):
            stage.prepare()
    assert list(outside.iterdir()) == []


def test_duplicate_names_are_refused(demo_root: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unique"):  # by the profile model, before a run dir exists
        stage_with(demo_root, tmp_path / "runs", [{"name": "k", "action": "kill_worker"}] * 2)
    assert not (tmp_path / "runs").exists()


def test_a_symlink_that_appears_during_the_stage_is_refused(
    demo_root: Path, tmp_path: Path, running: list[Running]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "victim.json"
    target.write_text('{"keep": true}')
    chaos = [{"name": "cut", "action": "corrupt_file", "path": "state/later.json"}]
    r = Running(stage_with(demo_root, tmp_path / "runs", chaos, calls=100_000, isolation="inline"))
    running.append(r)
    (demo_root / "state" / "later.json").symlink_to(target)
    with ControlClient(r.run_dir, timeout=WAIT) as c:
        with pytest.raises(CommandError, match="outside the sandbox"):
            c.command("chaos", {"action": "cut"})
        with pytest.raises(CommandError, match="unknown chaos action 'nope'"):
            c.command("chaos", {"action": "nope"})
        with pytest.raises(CommandError, match="chaos needs args"):
            c.command("chaos", {})
        c.command("abort")
    assert r.join() == 3
    assert target.read_text() == '{"keep": true}'
    refused = events_of(r.run_dir, "chaos_refused")
    assert [e["action"] for e in refused] == ["cut"] and "outside the sandbox" in refused[0]["reason"]
    assert "refused  cut  corrupt_file" in (r.run_dir / CHAOS_LOG).read_text()
    assert events_of(r.run_dir, "chaos_start") == []


def test_each_action_is_recorded_in_the_chaos_log_and_events(
    demo_root: Path, tmp_path: Path, running: list[Running]
) -> None:
    chaos: list[dict[str, Any]] = [
        {
            "name": "error_burst",
            "action": "write_file",
            "path": "state/chaos.json",
            "content": {"errors": 0.8},
            "duration": "1s",
            "at": "0.3s",
        },
        {
            "name": "latency_spike",
            "action": "write_file",
            "path": "state/chaos.json",
            "content": {"latency_ms": 40},
            "duration": "1s",
        },
        {"name": "cut_log", "action": "corrupt_file", "path": "state/pra_log.json"},
        {"name": "kill", "action": "kill_worker", "target": "worker-0"},
        {"name": "freeze", "action": "pause_worker", "duration": "0.5s", "target": "worker-1"},
    ]
    r = Running(stage_with(demo_root, tmp_path / "runs", chaos, calls=100_000))
    running.append(r)
    with ControlClient(r.run_dir, timeout=WAIT) as c:
        c.request("subscribe")
        snap = c.next_snapshot(WAIT)
        assert snap is not None and snap.chaos_actions == [s["name"] for s in chaos]
        # the scheduled burst fires by itself; while it holds the file, the spike must wait
        wait_for(lambda: events_of(r.run_dir, "chaos_start"))
        with pytest.raises(CommandError, match="held by chaos error_burst"):
            c.command("chaos", {"action": "latency_spike"})
        with pytest.raises(CommandError, match="already running"):
            c.command("chaos", {"action": "error_burst"})
        wait_for(lambda: [e for e in events_of(r.run_dir, "chaos_end") if e["action"] == "error_burst"])
        assert not (demo_root / "state" / "chaos.json").exists()
        wait_for(lambda: (demo_root / "state" / "pra_log.json").exists())
        assert c.command("chaos", {"action": "cut_log"}).startswith("chaos cut_log: cut state/pra_log.json")
        assert "SIGKILL worker-0" in c.command("chaos", {"action": "kill"})
        assert "SIGSTOP worker-1" in c.command("chaos", {"action": "freeze"})
        assert "wrote state/chaos.json" in c.command("chaos", {"action": "latency_spike"})
        wait_for(
            lambda: {e["action"] for e in events_of(r.run_dir, "chaos_end")} >= {s["name"] for s in chaos},
            run_dir=r.run_dir,
        )
        c.command("abort")
    assert r.join() == 3
    starts = {e["action"]: e for e in events_of(r.run_dir, "chaos_start")}
    ends = {e["action"]: e for e in events_of(r.run_dir, "chaos_end")}
    assert set(starts) == set(ends) == {s["name"] for s in chaos}
    assert starts["error_burst"]["source"] == "schedule" and starts["error_burst"]["duration"] == 1.0
    assert starts["kill"]["source"] == "operator" and starts["kill"]["effect"] == "kill_worker"
    assert all(e["ok"] for e in ends.values()), ends
    assert "replaced" in ends["kill"]["detail"] and "SIGCONT worker-1" in ends["freeze"]["detail"]
    assert ends["latency_spike"]["detail"] == "removed state/chaos.json"
    # the effects are real: the runner saw the crash and restarted the worker, the engine failed on purpose
    assert events_of(r.run_dir, "worker_crash") and events_of(r.run_dir, "worker_restart")
    errors = " ".join(e["msg"] for e in events_of(r.run_dir, "error"))
    assert "chaos: engine overloaded" in errors
    # a worker killed mid-call fails that call (WorkerCrash); one killed between calls fails none
    crash = events_of(r.run_dir, "worker_crash")[0]["msg"]
    assert "WorkerCrash" in errors or "between calls" in crash
    assert not (demo_root / "state" / "chaos.json").exists()
    log = (r.run_dir / CHAOS_LOG).read_text().splitlines()
    for spec in chaos:
        assert any(f"start    {spec['name']}  {spec['action']}" in line for line in log), spec["name"]
        assert any(f"end      {spec['name']}  {spec['action']}" in line for line in log), spec["name"]
    ops = [e for e in events_of(r.run_dir, "operator") if e["action"] == "chaos"]
    assert [e["args"]["action"] for e in ops] == ["cut_log", "kill", "freeze", "latency_spike"]


def test_open_windows_close_when_the_stage_ends(demo_root: Path, tmp_path: Path, running: list[Running]) -> None:
    chaos: list[dict[str, Any]] = [
        {
            "name": "long_burst",
            "action": "write_file",
            "path": "state/chaos.json",
            "content": {"errors": 0.5},
            "duration": "1h",
        },
        {"name": "long_freeze", "action": "pause_worker", "duration": "1h", "target": "worker-0"},
    ]
    (demo_root / "state" / "chaos.json").write_text('{"latency_ms": 1}')
    r = Running(stage_with(demo_root, tmp_path / "runs", chaos, calls=100_000, timeout=60))
    running.append(r)
    with ControlClient(r.run_dir, timeout=WAIT) as c:
        c.command("chaos", {"action": "long_burst"})
        c.command("chaos", {"action": "long_freeze"})
        c.command("abort")
    assert r.join() == 3
    ends = {e["action"]: e["detail"] for e in events_of(r.run_dir, "chaos_end")}
    assert ends == {"long_burst": "restored state/chaos.json", "long_freeze": ends["long_freeze"]}
    assert "worker-0" in ends["long_freeze"]  # SIGCONT, or gone: the runner abandons a frozen call at stop
    assert (demo_root / "state" / "chaos.json").read_text() == '{"latency_ms": 1}'
