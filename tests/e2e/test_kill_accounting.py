"""Every call accounted for: after ``kill -9`` the rebuilt summary holds all but a tick of what the
server answered; every failed call is in failures.jsonl with its request id, as the server logged it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from soakwatch.config.profile import load_profile
from soakwatch.core.failures import read_failures
from soakwatch.stage import Stage
from tests.helpers import only_run_dir, run_cli
from tests.load_helpers import slow_server, wait_for

DELAY = 0.2
CONCURRENCY = 8
TICK = 0.5


def test_kill_9_loses_at_most_a_tick_of_calls(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with slow_server(tmp_path, DELAY) as srv:
        args = ["run", "--target", srv.url, "--concurrency", str(CONCURRENCY), "--duration", "60s", "--no-tui"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "soakwatch", *args, "--out-dir", str(out)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: srv.stats()["answered"] >= 100, 60, "100 answered calls")
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        wait_for(lambda: srv.stats()["in_flight"] == 0, 10, "the server to finish its requests")
        answered = srv.stats()["answered"]
    run_dir = only_run_dir(out)
    res = run_cli(["report", str(run_dir)], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "exit None" not in res.stdout and "(the runner did not finish)" in res.stdout, res.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    # lost: the calls answered after the last tick, and those in flight when the runner died
    tick_worth = CONCURRENCY / DELAY * TICK
    assert summary["calls"] >= answered - tick_worth - CONCURRENCY, (summary["calls"], answered)
    assert summary["calls"] <= answered
    assert summary["complete"] is False and summary["exit_code"] is None
    assert summary["started_calls"] == summary["calls"] + summary["unaccounted_calls"]
    md = (run_dir / "summary.md").read_text()
    assert f"{summary['started_calls']} started, {summary['calls']} recorded" in md, md


def test_every_failed_call_is_in_failures_jsonl_with_its_request_id(tmp_path: Path) -> None:
    with slow_server(tmp_path, delay=0.01, statuses="500,502,503") as srv:
        prof = {"target": srv.url, "calls": 200, "concurrency": 8, "tick": TICK, "timeout": 10}
        stage = Stage(load_profile(None, prof), out_dir=tmp_path / "runs")
        run_dir = stage.prepare()
        stage.run()
        served = {rid: status for _, rid, status in srv.answers()}
    lines = list(read_failures(run_dir))
    assert len(lines) == len(served) == 200
    assert {f["request_id"] for f in lines} == set(served)
    for f in lines:
        assert f["kind"] == f"HTTP {served[f['request_id']]}" and f["latency_ms"] > 0
        assert f["request_id"].endswith(f"-{f['call']}")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["failures_logged"] == 200 and summary["failures_left_out"] == 0
    assert len(summary["errors_by_kind"]) == 3
    assert "`failures.jsonl` (200 lines)" in (run_dir / "summary.md").read_text()
    res = run_cli(["compare", str(run_dir), str(run_dir)], cwd=tmp_path)
    row = next(line for line in res.stdout.splitlines() if "failed calls in failures.jsonl" in line)
    assert [c.strip() for c in row.split("|") if c.strip()][-2:] == ["200", "200"], row
