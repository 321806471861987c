"""The UI's CPU on the real demo in a real terminal (tmux), for bench_tui.py.

``soakwatch demo`` runs in a private tmux server at 160×48; the pane's process runs the
TUI (the stage is its child). Its CPU time is read with psutil over the steady middle
of the run, while the bench presses ``c`` and Enter (the first chaos action) once, as an
operator would. The demo ends by itself (2,400 calls at 40/s); the tmux server is always
killed, and the stage is stopped by pid if anything is left.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

COLS, ROWS = 160, 48
#: calls of the demo run (40/s): long enough for a steady middle, short enough for a bench
CALLS = 1600
WARMUP_S = 8.0
MEASURE_S = 24.0
#: when the chaos key is pressed, seconds into the measurement
CHAOS_AT_S = 6.0
END_TIMEOUT_S = 90.0
#: how long the stage gets to exit once the bench is done with it
STOP_TIMEOUT_S = 30.0
#: panel titles that must be on the screen for the measurement to count as "every panel"
PANELS = ("request rate", "latency", "gates", "errors", "memory", "events", "watched files")


def _tmux(sock: str, *args: str) -> str:
    cmd = ["tmux", "-L", sock, "-f", "/dev/null", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False).stdout


def demo_ui_cpu() -> dict[str, float] | None:
    """CPU % of one core of the demo's UI process in tmux; None without tmux."""
    if shutil.which("tmux") is None:
        return None
    sock = f"soakwatch-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    # a stage still writing its last files as the directory goes must not fail the bench
    with tempfile.TemporaryDirectory(prefix="soakwatch-bench-demo-", ignore_cleanup_errors=True) as tmp:
        out = Path(tmp) / "runs"
        cmd = f"{sys.executable} -m soakwatch demo --calls {CALLS} --out-dir {out}"
        env = f"env TERM=xterm-256color COLORTERM=truecolor PATH={os.environ.get('PATH', '')}"
        _tmux(sock, "new-session", "-d", "-s", "b", "-x", str(COLS), "-y", str(ROWS), f"{env} {cmd}")
        try:
            pid = int(_tmux(sock, "display-message", "-p", "-t", "b", "#{pane_pid}").strip())
            ui = psutil.Process(pid)
            time.sleep(WARMUP_S)
            t0, c0 = time.monotonic(), sum(ui.cpu_times()[:2])
            time.sleep(CHAOS_AT_S)
            _tmux(sock, "send-keys", "-t", "b", "c")
            time.sleep(1.0)
            _tmux(sock, "send-keys", "-t", "b", "Enter")
            time.sleep(MEASURE_S - CHAOS_AT_S - 1.0)
            t1, c1 = time.monotonic(), sum(ui.cpu_times()[:2])
            screen = _tmux(sock, "capture-pane", "-p", "-t", "b")
            deadline = time.monotonic() + END_TIMEOUT_S
            while not any(out.glob("*/summary.json")) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            _tmux(sock, "kill-server")
            _stop_stage(out)
    return {
        "ui_cpu_pct": 100.0 * (c1 - c0) / (t1 - t0),
        "seconds": t1 - t0,
        "panels": float(sum(title in screen for title in PANELS)),
        "panels_total": float(len(PANELS)),
    }


def _stop_stage(out: Path) -> None:
    """SIGTERM the stage if the run did not end (its pid is in run_config.json), and wait
    until it is gone, so its temporary directory is not removed under it."""
    stages: list[psutil.Process] = []
    for run_dir in out.glob("*"):
        try:
            pid = int(json.loads((run_dir / "run_config.json").read_text())["pid"])
            proc = psutil.Process(pid)
            if proc.cmdline()[1:3] != ["-m", "soakwatch"]:
                continue
            stages.append(proc)
            if not (run_dir / "summary.json").exists():
                os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError, KeyError, psutil.Error):
            pass
    psutil.wait_procs(stages, timeout=STOP_TIMEOUT_S)
