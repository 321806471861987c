"""Attack: a reader that stops reading must never wedge the stage (issue 13, case 1).

Standard output is a pipe nobody reads, shrunk to one page so it fills in a second.
Before the fix the tick loop blocked in the write: the stage never ended, signals did
nothing and no summary was written.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import counted, only_run_dir

pytestmark = pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="needs Linux pipes (F_SETPIPE_SZ)")


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _unread(fd: int) -> int:
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return int.from_bytes(buf, sys.byteorder)


def _events(run_dir: Path) -> list[dict[str, object]]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _start(sandbox: Path, out: Path, *limit: str) -> tuple[subprocess.Popen[bytes], int]:
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)  # one page: full (>3500 bytes unread) after ~35 status lines
    env = {**os.environ, "SOAKWATCH_ROOT": str(sandbox)}
    args = ["run", "--target", "sw_hostile:ok", "--isolation", "inline", "--rate", "50", *limit]
    args += ["--no-tui", "--out-dir", str(out), "--set", "status_every=0.01", "--set", "tick=0.01"]
    with (out.parent / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "soakwatch", *args], cwd=sandbox, stdout=w, stderr=err, env=env)
    os.close(w)
    return proc, r


def test_stage_ends_by_itself_with_a_reader_that_never_reads(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc, r = _start(sandbox, out, "--calls", "1000")
    try:
        code = proc.wait(60)
        assert _unread(r) >= 3500, "the pipe never filled: the test did not test anything"
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(r)
    assert code == 0, (out.parent / "stderr.txt").read_text()
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == counted(sandbox, "ok") == 1000
    dropped = [e for e in _events(run_dir) if e["kind"] == "output_dropped"]
    assert dropped and int(str(dropped[-1]["dropped"])) > 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_a_stage_whose_reader_never_reads(sandbox: Path, tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "runs"
    proc, r = _start(sandbox, out, "--duration", "120s")
    try:
        _wait(lambda: _unread(r) >= 3500, 60, "the pipe to fill")
        _wait(lambda: out.is_dir() and any(out.iterdir()), 30, "the run dir")
        run_dir = only_run_dir(out)
        # the stage goes on past the full pipe: it notices the drops and keeps calling
        _wait(lambda: any(e["kind"] == "output_dropped" for e in _events(run_dir)), 30, "output_dropped")
        proc.send_signal(sig)
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(r)
    assert code == 130, (out.parent / "stderr.txt").read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "INTERRUPTED"
    assert summary["calls"] == counted(sandbox, "ok") > 0
