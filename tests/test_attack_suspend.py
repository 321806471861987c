"""Attack: the monitor suspended with SIGSTOP (issue 13, case 10).

Before the fix nothing marked a 10 s suspension and ``calls stall < 5s`` missed the gap
(the first frame after SIGCONT showed progress again). Now a ``suspended`` event says how
long, and the stall gate counts the gap.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers import counted, only_run_dir

STOPPED_FOR = 6.0


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_suspended_monitor_is_an_event_and_a_stall(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["run", "--target", "sw_hostile:ok", "--isolation", "inline", "--rate", "50", "--duration", "12s"]
    args += ["--gate", "calls stall < 3s", "--no-tui", "--out-dir", str(out), "--set", "tick=0.2"]
    env = {**os.environ, "SOAKWATCH_ROOT": str(sandbox)}
    with (tmp_path / "out.txt").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "soakwatch", *args], cwd=sandbox, stdout=log, stderr=log, env=env
        )
    try:
        _wait(lambda: out.is_dir() and any(out.iterdir()), 30, "the run dir")
        timeline = only_run_dir(out) / "timeline.csv"
        _wait(lambda: timeline.exists() and len(timeline.read_text().splitlines()) > 5, 30, "timeline rows")
        proc.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        _wait(lambda: time.monotonic() - stopped >= STOPPED_FOR, STOPPED_FOR + 5, "the suspension")  # the attack
        proc.send_signal(signal.SIGCONT)
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    run_dir = only_run_dir(out)
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    suspended = [e for e in events if e["kind"] == "suspended"]
    assert suspended and STOPPED_FOR - 1 <= suspended[0]["seconds"] <= STOPPED_FOR + 5, suspended
    assert code == 1, (tmp_path / "out.txt").read_text()  # the stall gate failed
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == counted(sandbox, "ok")
