"""Attack: what a target starts must not outlive its worker or the monitor (issue 13, case 7).

Each worker leads its own session and process group: at its replacement and at the stage's end
the whole group goes, and every process the target left running is killed, counted
(``orphans_killed`` events, ``summary.orphans``) and said on the verdict line. Workers end
with the monitor, even when it is SIGKILLed (PR_SET_PDEATHSIG, and a thread watching the
parent pid), and nothing the stage started holds the monitor's standard output open.
The target writes the pid of each process it started, so the test checks each one.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers import only_run_dir

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and PR_SET_PDEATHSIG: Linux")


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _grandchildren(root: Path) -> list[int]:
    return [int(x) for p in (root / "counts").glob("grandchild-*.txt") for x in p.read_text().split()]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "events.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def _start(root: Path, out: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "soakwatch", "run", "--target", "sw_lifecycle:forks_sleeper", *args]
    cmd += ["--no-tui", "--out-dir", str(out), "--set", "tick=0.1"]
    return subprocess.Popen(
        cmd,
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SOAKWATCH_ROOT": str(root), **env},
    )


def _cleanup(proc: subprocess.Popen[bytes], root: Path) -> None:
    """Close the test's end of the pipe; a failed run must not leave sleepers behind."""
    if proc.stdout is not None:
        proc.stdout.close()
    for pid in _grandchildren(root):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _read_to_eof(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The monitor's output until every holder of the pipe closed it (fails after ``timeout``)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    out = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"the monitor's output is still held open {timeout:g}s on: {out[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return out
            out += chunk


@pytest.mark.parametrize("fork", ["subprocess", "os"])
def test_processes_a_target_leaves_running_are_killed_and_counted(sandbox: Path, tmp_path: Path, fork: str) -> None:
    out = tmp_path / "runs"
    proc = _start(sandbox, out, "--calls", "4", "--concurrency", "2", SW_FORK=fork)
    try:
        # every writer of the monitor's output is gone soon after it ends (no helper holds it)
        text = _read_to_eof(proc, 60)
        code = proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        _cleanup(proc, sandbox)
    assert code == 0, text.decode(errors="replace")
    pids = _grandchildren(sandbox)
    assert len(pids) == 4
    assert [p for p in pids if _alive(p)] == []
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    assert summary["orphans"] == 4
    assert summary["verdict"] == "PASSED, 4 process(es) the target left running were killed"
    killed = [e for e in _events(only_run_dir(out)) if e["kind"] == "orphans_killed"]
    assert sorted(p for e in killed for p in e["pids"]) == sorted(pids)


def test_workers_and_their_groups_end_when_the_monitor_is_killed(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = _start(sandbox, out, "--calls", "2", "--concurrency", "2", SW_SLOW_S="60")
    try:
        _wait(lambda: len(_grandchildren(sandbox)) == 2, 60, "both calls to start their sleeper")
        start = next(e for e in _events(only_run_dir(out)) if e["kind"] == "stage_start")
        workers = [int(p) for p in start["workers"].values()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        everyone = workers + _grandchildren(sandbox)
        _wait(lambda: not any(_alive(p) for p in everyone), 15, f"workers and sleepers {everyone} to end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        _cleanup(proc, sandbox)


def test_a_target_signalling_its_group_does_not_stop_the_monitor(sandbox: Path, tmp_path: Path) -> None:
    (sandbox / "sw_grouphit.py").write_text(
        "import os, signal\n\ndef hit():\n    os.killpg(os.getpgrp(), signal.SIGTERM)\n"
    )
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "soakwatch", "run", "--target", "sw_grouphit:hit", "--calls", "3"]
    cmd += ["--no-tui", "--out-dir", str(out)]
    res = subprocess.run(
        cmd, cwd=sandbox, capture_output=True, timeout=120, env={**os.environ, "SOAKWATCH_ROOT": str(sandbox)}
    )
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    # the monitor lived to the end of the stage: each call killed its own worker (a crash), never the monitor
    assert res.returncode == 0, res.stdout.decode(errors="replace")
    assert (summary["state"], summary["calls"], summary["errors"], summary["worker_crashes"]) == ("PASSED", 3, 3, 3)
