"""A runner stopped (SIGSTOP) and continued under a rate: the arrivals due meanwhile are skipped,
counted as missed and named in an event, never sent late in a burst."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import only_run_dir
from tests.load_helpers import slow_server, wait_for

RATE = 20
STOPPED = 2.0


def test_arrivals_due_while_suspended_are_skipped_and_said(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with slow_server(tmp_path, delay=0.02) as srv:
        args = ["run", "--target", srv.url, "--rate", str(RATE), "--calls", "200", "--concurrency", "4", "--no-tui"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "soakwatch", *args, "--out-dir", str(out)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: srv.stats()["answered"] >= RATE, 60, "a second of calls")
            os.kill(proc.pid, signal.SIGSTOP)
            stopped_at = time.monotonic()
            # the length of the suspension is what is under test, not a wait for something to happen
            wait_for(lambda: time.monotonic() - stopped_at >= STOPPED, 10, "the suspension")
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        assert proc.wait(60) == 0
        answered = srv.stats()["answered"]
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == answered and summary["calls"] + summary["missed_arrivals"] == 200
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    skipped = [e for e in events if e["kind"] == "arrivals_skipped"]
    said = sum(e["arrivals"] for e in skipped)
    # due in the suspension, less the last grace (a tick) whose arrivals can still be sent
    expected = (STOPPED - 0.5) * RATE
    assert 0.8 * expected <= said <= summary["missed_arrivals"], (skipped, summary["missed_arrivals"])
    assert all("suspended" in e["msg"] for e in skipped)
    assert f"{summary['missed_arrivals']} of 200 arrivals missed" in summary["verdict"]
