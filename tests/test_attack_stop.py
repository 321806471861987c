"""Attack: a graceful stop must let the calls in flight finish (issue 13, case 9).

Before the fix a process-isolated stage killed its calls in flight about a second after
SIGINT and counted them as Timeouts, inflating the error ratio. Now they get ``stop_grace``
seconds (default 10) to finish; the ones still running after it (or at a second SIGINT) are
cancelled: counted on the verdict line and in ``stage_end``, never results or errors. The
target writes 'started'/'finished' lines of its own, and soakwatch's figures must equal them.
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
from typing import Any

import pytest

from tests.helpers import counted, only_run_dir


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _start(sandbox: Path, out: Path, slow_s: float, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOAKWATCH_ROOT": str(sandbox), "SW_SLOW_S": str(slow_s)}
    args = ["run", "--target", "sw_lifecycle:slow", "--concurrency", "2", "--duration", "120s", *extra]
    args += ["--no-tui", "--out-dir", str(out), "--set", "tick=0.1"]
    with (out.parent / "stderr.txt").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "soakwatch", *args],
            cwd=sandbox,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )


def _stop_when_busy(proc: subprocess.Popen[bytes], sandbox: Path, out: Path, *signals: int) -> int:
    """Both slots in their first call, then the signals (each once its 'signal' event is written)."""
    try:
        _wait(lambda: counted(sandbox, "started") >= 2, 60, "two calls in flight")
        run_dir = only_run_dir(out)
        for n, sig in enumerate(signals, 1):
            proc.send_signal(sig)
            _wait(lambda: _signal_events(run_dir) >= n, 30, f"signal event {n}")  # noqa: B023 - waited on at once
        return proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _signal_events(run_dir: Path) -> int:
    return sum(e["kind"] == "signal" for e in _events(run_dir))


def _summary(out: Path) -> dict[str, Any]:
    return dict(json.loads((only_run_dir(out) / "summary.json").read_text()))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_calls_in_flight_finish_within_the_grace(sandbox: Path, tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "runs"
    code = _stop_when_busy(_start(sandbox, out, 2.5), sandbox, out, sig)
    assert code == 130, (tmp_path / "stderr.txt").read_text()
    s = _summary(out)
    assert s["state"] == "INTERRUPTED"
    # every call the target started, it finished, and soakwatch recorded each as a success
    assert counted(sandbox, "started") == counted(sandbox, "finished") == s["calls"] == 2
    assert (s["errors"], s["timeouts"], s["ok"]) == (0, 0, 2)
    assert (s["stop_finished"], s["stop_cancelled"]) == (2, 0)
    assert s["verdict"] == "INTERRUPTED"


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_calls_still_running_after_the_grace_are_cancelled_not_errors(
    sandbox: Path, tmp_path: Path, isolation: str
) -> None:
    out = tmp_path / "runs"
    proc = _start(sandbox, out, 60, "--isolation", isolation, "--set", "stop_grace=0.5")
    code = _stop_when_busy(proc, sandbox, out, signal.SIGINT)
    assert code == 130, (tmp_path / "stderr.txt").read_text()
    s = _summary(out)
    assert s["state"] == "INTERRUPTED"
    assert counted(sandbox, "finished") == s["calls"] == 0
    assert (s["errors"], s["timeouts"]) == (0, 0)
    assert (s["stop_finished"], s["stop_cancelled"]) == (0, 2)
    assert "2 call(s) in flight cancelled by the stop" in s["verdict"]
    over = [e for e in _events(only_run_dir(out)) if e["kind"] == "stop_grace_over"]
    assert [(e["in_flight"], e["grace"]) for e in over] == [(2, 0.5)]


def test_a_second_signal_cancels_at_once(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    code = _stop_when_busy(_start(sandbox, out, 60), sandbox, out, signal.SIGINT, signal.SIGINT)
    assert code == 130, (tmp_path / "stderr.txt").read_text()
    # cancelled by the second signal, not by the end of the (default 10 s) grace
    assert not [e for e in _events(only_run_dir(out)) if e["kind"] == "stop_grace_over"]
    s = _summary(out)
    assert counted(sandbox, "finished") == s["calls"] == 0
    assert (s["errors"], s["timeouts"], s["stop_cancelled"]) == (0, 0, 2)
