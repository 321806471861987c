"""SIGHUP to a headless foreground run: the stage goes on (output into stage.log) and reports in
full; with --stop-on-hangup it stops gracefully, like SIGINT. (A TUI run losing its terminal is
tests/e2e/test_tmux_attach.py.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from soakwatch.control.client import wait_for_control
from tests.detach_harness import kinds, noop_args, registry_fixture, stop, until  # noqa: F401 (fixtures)


def _start(sandbox: Path, out: Path, *extra: str, duration: str) -> tuple[subprocess.Popen[bytes], Path]:
    cmd = [sys.executable, "-m", "soakwatch", *noop_args(sandbox, out, "--no-tui", *extra, duration=duration)]
    # a session of its own: the SIGHUP comes from this test only
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    run_dir = until(lambda: next(iter(out.glob("adhoc-*")), None), "the run dir")
    wait_for_control(run_dir, 30.0, alive=lambda: proc.poll() is None)
    return proc, run_dir


def test_a_headless_run_survives_a_hang_up_and_reports(sandbox: Path, tmp_path: Path, registry: Path) -> None:
    proc, run_dir = _start(sandbox, tmp_path / "runs", duration="3s")
    try:
        proc.send_signal(signal.SIGHUP)
        until(lambda: kinds(run_dir, "hangup"), "the hangup event")
        assert proc.stdout is not None
        proc.stdout.close()  # the terminal is gone: nothing reads what it prints any more
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            stop(proc.pid)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] and summary["state"] == "PASSED" and summary["calls"] > 0
    log = (run_dir / "stage.log").read_text()
    assert "stage adhoc: PASSED" in log  # the end of the output went to stage.log
    (hangup,) = kinds(run_dir, "hangup")
    assert hangup["log"] == str(run_dir / "stage.log")
    assert not kinds(run_dir, "signal")


def test_stop_on_hangup_stops_gracefully(sandbox: Path, tmp_path: Path, registry: Path) -> None:
    proc, run_dir = _start(sandbox, tmp_path / "runs", "--stop-on-hangup", duration="60s")
    try:
        proc.send_signal(signal.SIGHUP)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            stop(proc.pid)
    assert proc.returncode == 130
    (sig,) = kinds(run_dir, "signal")
    assert sig["signal"] == "SIGHUP"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] and summary["state"] == "INTERRUPTED" and summary["exit_code"] == 130
    assert b"stage adhoc: INTERRUPTED" in out
