"""The TUI's cost, measured in one run.

1. UI CPU as an operator sees it: ``soakwatch demo`` (its target, arrival rate, events,
   scheduled and keyed chaos, every panel changing) inside tmux at 160×48 and the default
   refresh (2 Hz). The pane's process is the UI (the stage runs in its own child process);
   its CPU is sampled over the steady middle of the run while a chaos action is fired with
   the ``c`` key, as an operator would. Goal: under 3 % of one core.
2. The stage's throughput with the TUI vs headless: a no-op stage runs flat out
   (``bench_targets:noop``, 4 slots, inline) on a pseudo-terminal, rounds alternating
   headless / TUI so drift on a shared machine hits both. Goal: at least 0.9.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import psutil
from bench_tmux import demo_ui_cpu

HERE = Path(__file__).resolve().parent
ROUNDS = 2
DURATION_S = 12
#: CPU is sampled from this long after start until this long before the end (startup and reports left out)
WARMUP_S = 4.0
COOLDOWN_S = 1.0
TERMINAL = (160, 48)
END_TIMEOUT_S = 60.0

PROFILE = f"""
description = "bench: no-op target flat out, every TUI panel fed"
target = "bench_targets:noop"
duration = "{DURATION_S}s"
concurrency = 4
isolation = "inline"

[watch]
files = ["watched/*.log"]
snapshot_interval = "2s"
warn_size_kb = 1

[processes]
warmup = "2s"

[[gates]]
name = "errors"
metric = "error_ratio"
condition = "< 1%"
"""


def _setup(tmp: Path) -> Path:
    root = tmp / "root"
    (root / "watched").mkdir(parents=True)
    (root / "watched" / "a.log").write_text("line\n" * 200)
    (root / "bench_targets.py").write_text((HERE / "bench_targets.py").read_text())
    profile = tmp / "bench_tui.toml"
    profile.write_text(PROFILE)
    return profile


def _cmd(profile: Path, root: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "soakwatch",
        "run",
        "--profile",
        str(profile),
        "--root",
        str(root),
        "--out-dir",
        str(out),
        *extra,
    ]


def _summary(out: Path) -> dict[str, float]:
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    data = json.loads((run_dir / "summary.json").read_text())
    return {"rate": float(data["rate_avg"]), "calls": float(data["calls"])}


def headless(profile: Path, root: Path, out: Path) -> dict[str, float]:
    subprocess.run(_cmd(profile, root, out, "--no-tui"), capture_output=True, timeout=END_TIMEOUT_S + DURATION_S)
    return _summary(out)


#: panel titles looked for in what the TUI wrote to the terminal (a collapsed panel draws nothing)
PANELS = ("request rate", "latency", "errors", "gates", "watched files", "memory", "snapshots", "events")
#: terminal output kept to look for the panel titles
KEEP_BYTES = 4 * 1024 * 1024


def _drain(fd: int, stop: threading.Event, seen: bytearray) -> None:
    while not stop.is_set():
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        seen.extend(data)
        del seen[:-KEEP_BYTES]


def with_tui(profile: Path, root: Path, out: Path) -> dict[str, float]:
    master, slave = os.openpty()
    cols, rows = TERMINAL
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    started = time.monotonic()
    proc = subprocess.Popen(_cmd(profile, root, out), stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    stop = threading.Event()
    seen = bytearray()
    reader = threading.Thread(target=_drain, args=(master, stop, seen), daemon=True)
    reader.start()
    ui = psutil.Process(proc.pid)
    time.sleep(WARMUP_S)
    t0, c0 = time.monotonic(), sum(ui.cpu_times()[:2])
    time.sleep(max(0.5, DURATION_S - WARMUP_S - COOLDOWN_S))
    t1, c1 = time.monotonic(), sum(ui.cpu_times()[:2])
    deadline = started + DURATION_S + END_TIMEOUT_S
    while not any(out.glob("*/summary.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # let the final snapshot reach the screen
    try:
        os.write(master, b"q")
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        stop.set()
        os.close(master)
    result = _summary(out)
    result["ui_cpu_pct"] = 100.0 * (c1 - c0) / (t1 - t0)
    result["panels"] = float(sum(title.encode() in seen for title in PANELS))
    return result


def main() -> int:
    demo = demo_ui_cpu()
    if demo is None:
        print("tmux not installed: the UI CPU on the demo is not measured")
    else:
        print(
            f"UI CPU running `soakwatch demo` in tmux at 160x48, 2 Hz, chaos fired by key: "
            f"{demo['ui_cpu_pct']:.1f}% of one core over {demo['seconds']:.0f}s (goal < 3%); "
            f"{demo['panels']:.0f}/{demo['panels_total']:.0f} panels on screen",
            flush=True,
        )
    with tempfile.TemporaryDirectory(prefix="soakwatch-bench-tui-") as tmp_name:
        tmp = Path(tmp_name)
        profile = _setup(tmp)
        root = tmp / "root"
        heads: list[dict[str, float]] = []
        tuis: list[dict[str, float]] = []
        for i in range(ROUNDS):
            heads.append(headless(profile, root, tmp / f"head{i}"))
            tuis.append(with_tui(profile, root, tmp / f"tui{i}"))
            print(
                f"round {i + 1}: headless {heads[-1]['rate']:,.0f} calls/s | "
                f"TUI {tuis[-1]['rate']:,.0f} calls/s, UI process {tuis[-1]['ui_cpu_pct']:.1f}% of a core, "
                f"{tuis[-1]['panels']:.0f}/{len(PANELS)} panels drawn",
                flush=True,
            )
    head_rate = sum(h["rate"] for h in heads) / ROUNDS
    tui_rate = sum(t["rate"] for t in tuis) / ROUNDS
    ui_cpu = sum(t["ui_cpu_pct"] for t in tuis) / ROUNDS
    ratio = tui_rate / head_rate if head_rate else 0.0
    print(f"UI CPU on the no-op stage flat out, 160x48 pty: {ui_cpu:.1f}% of one core")
    print(f"stage throughput with the TUI / headless: {tui_rate:,.0f} / {head_rate:,.0f} = {ratio:.2f} (goal >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
