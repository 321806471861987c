"""End to end: the real CLI against real target processes (issue "Stage engine" must-shows)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import counted, only_run_dir, run_cli

pytestmark = pytest.mark.e2e


def test_flaky_target_counts_match_exactly(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--target",
            "sw_targets:flaky",
            "--root",
            str(sandbox),
            "--cases",
            "cases.jsonl",
            "--calls",
            "5000",
            "--concurrency",
            "4",
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=sandbox,
    )
    assert r.returncode == 0, r.stderr + r.stdout
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == 5000
    assert summary["ok"] == counted(sandbox, "ok") == 4950
    assert summary["errors"] == counted(sandbox, "error") == 50
    kinds = {k["kind"]: k["count"] for k in summary["errors_by_kind"]}
    # i % 200 == 7 → ValueError (25 of them in 5000 calls), the other i % 100 == 7 → EngineError
    assert kinds == {"ValueError": 25, "sw_targets.EngineError": 25}
    md = (run_dir / "summary.md").read_text()
    assert "sw_targets.EngineError" in md and "engine refused" in md
    for name in ("run_config.json", "events.jsonl", "timeline.csv", "summary.json", "summary.md"):
        assert (run_dir / name).is_file(), name


def test_crash_and_hang_are_recorded_and_the_monitor_lives(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--target",
            "sw_targets:crashy",
            "--root",
            str(sandbox),
            "--cases",
            "cases.jsonl",
            "--calls",
            "60",
            "--timeout",
            "2",
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=sandbox,
    )
    assert r.returncode == 0, r.stderr + r.stdout
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == 60
    assert summary["timeouts"] == 1
    assert summary["errors"] == 1
    assert summary["ok"] == counted(sandbox, "ok") == 58
    kinds = {k["kind"]: k for k in summary["errors_by_kind"]}
    assert kinds["WorkerCrash"]["count"] == 1 and "exited with code 1" in kinds["WorkerCrash"]["first_message"]
    assert kinds["Timeout"]["count"] == 1
    assert summary["hangs"] == 1 and summary["worker_crashes"] == 1 and summary["worker_restarts"] == 2
    (dump,) = (run_dir / "workers").glob("hang-0-*.txt")  # one file per hang, named by the call
    stacks = dump.read_text()
    assert ("crashy" in stacks and "sleep" in stacks) or "sw_targets.py" in stacks


def test_async_target_inline(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--target",
            "sw_targets:async_flaky",
            "--root",
            str(sandbox),
            "--cases",
            "cases.jsonl",
            "--calls",
            "500",
            "--concurrency",
            "8",
            "--isolation",
            "inline",
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=sandbox,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    assert summary["calls"] == 500 and summary["errors"] == 50
    assert summary["errors_by_kind"][0]["kind"] == "RuntimeError"


def test_open_model_keeps_both_latencies(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--target",
            "sw_targets:slow",
            "--root",
            str(sandbox),
            "--calls",
            "200",
            "--rate",
            "400",
            "--concurrency",
            "1",
            "--isolation",
            "inline",
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=sandbox,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    sched, actual = summary["latency_scheduled"], summary["latency"]
    # 400/s asks for a call every 2.5 ms from a target that takes 5 ms: the queue builds up, and only
    # latency from the scheduled start shows it (coordinated omission); the arrivals that waited
    # more than the grace (a tick) for the one slot are missed, not sent late
    assert sched["count"] == actual["count"] == summary["calls"]
    assert summary["calls"] + summary["missed_arrivals"] == 200
    assert sched["p99"] > 5 * actual["p99"]
    assert "scheduled start" in (only_run_dir(out) / "summary.md").read_text()


def _background_run(sandbox: Path, out: Path, *extra: str, pipe: bool = False) -> subprocess.Popen[str]:
    """A 60 s stage of the slow target started in the background with the real CLI."""
    env = {k: v for k, v in os.environ.items() if k != "SOAKWATCH_ROOT"}
    args = ["run", "--target", "sw_targets:slow", "--root", str(sandbox), "--duration", "60s", *extra]
    out_to = subprocess.PIPE if pipe else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "soakwatch", *args, "--no-tui", "--out-dir", str(out)],
        cwd=sandbox,
        stdout=out_to,
        stderr=out_to,
        text=True,
        env=env,
    )


def _wait_for_timeline(out: Path, rows: int, timeout: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(out.glob("*/timeline.csv"))
        if found and len(found[0].read_text().splitlines()) >= rows:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("the stage never wrote its timeline")


def test_kill_9_then_report_rebuilds_the_summary(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = _background_run(sandbox, out, "--isolation", "inline")
    try:
        timeline = _wait_for_timeline(out, 4)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    run_dir = timeline.parent
    assert not (run_dir / "summary.json").exists()
    last = timeline.read_text().splitlines()[-1].split(",")
    r = run_cli(["report", str(run_dir)], cwd=sandbox)
    assert r.returncode == 0, r.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is False and summary["state"] == "INCOMPLETE"
    assert summary["calls"] >= int(last[2]) > 0
    assert summary["latency"]["count"] >= int(last[2])
    assert "stopped before it finished" in (run_dir / "summary.md").read_text()


def test_sigint_stops_gracefully_with_a_full_report(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = _background_run(sandbox, out, "--concurrency", "2", pipe=True)
    try:
        _wait_for_timeline(out, 3)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is True and summary["state"] == "INTERRUPTED" and summary["exit_code"] == 130
    assert summary["calls"] > 0 and summary["errors"] == 0


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--profile", "no_such_profile"], ["--profile", "no_such_profile"]),
        (["--calls", "-5"], ["--calls", "-5"]),
        (["--calls", "abc"], ["--calls", "abc"]),
        (["--target", "broken_module:run"], ["--target", "broken_module", "this_dependency_does_not_exist"]),
        (["--target", "sw_targets:nope"], ["--target", "sw_targets", "nope"]),
        (["--target", "sw_targets:NOT_CALLABLE"], ["--target", "not callable"]),
        (["--target", "not a spec"], ["--target", "not a spec"]),
        (["--root", "/no/such/dir"], ["--root", "/no/such/dir"]),
        (["--cases", "missing.jsonl"], ["--cases", "missing.jsonl"]),
        (["--set", "concurrency=many"], ["concurrency", "many"]),
        (["--set", "bogus_field=1"], ["bogus_field"]),
    ],
)
def test_bad_input_exit_2_with_a_clear_message(
    sandbox: Path, tmp_path: Path, args: list[str], expect: list[str]
) -> None:
    base = {"--target": "sw_targets:noop", "--root": str(sandbox), "--calls": "10"}
    for i in range(0, len(args), 2):
        base.pop(args[i], None)
    flat = [x for kv in base.items() for x in kv]
    r = run_cli(
        ["run", *flat, *args, "--isolation", "inline", "--no-tui", "--out-dir", str(tmp_path / "o")], cwd=sandbox
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for word in expect:
        assert word in r.stderr, (word, r.stderr)


def test_bad_profile_file_names_file_field_and_value(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('target = "m:f"\ncalls = -3\nconcurrency = "two"\nunknown_knob = 1\n')
    r = run_cli(["validate", str(bad)], cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    for word in (str(bad), "calls", "-3", "concurrency", "two", "unknown_knob"):
        assert word in r.stderr, (word, r.stderr)


def test_process_target_import_error_is_exit_2(sandbox: Path, tmp_path: Path) -> None:
    r = run_cli(
        [
            "run",
            "--target",
            "broken_module:run",
            "--root",
            str(sandbox),
            "--calls",
            "3",
            "--no-tui",
            "--out-dir",
            str(tmp_path / "o"),
        ],
        cwd=sandbox,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "this_dependency_does_not_exist" in r.stderr
