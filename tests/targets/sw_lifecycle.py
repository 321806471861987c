"""Targets for the life-cycle tests (graceful stop, orphans, output caps): each writes what it did
to files under SOAKWATCH_ROOT/counts/ (one line per event), so a test compares soakwatch's figures
with the target's own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _note(what: str, line: str = "x") -> None:
    d = Path(os.environ.get("SOAKWATCH_ROOT", ".")) / "counts"
    d.mkdir(exist_ok=True)
    with (d / f"{what}-{os.getpid()}.txt").open("a") as fh:
        fh.write(line + "\n")


def slow(case: dict[str, Any] | None = None) -> None:
    """Takes SW_SLOW_S seconds (default 2): 'started' before, 'finished' after."""
    _note("started")
    time.sleep(float(os.environ.get("SW_SLOW_S", "2")))
    _note("finished")


def forks_sleeper(case: dict[str, Any] | None = None) -> None:
    """Starts a grandchild that sleeps SW_SLEEP_S seconds (default 120) and leaves it running (a
    subprocess, or with SW_FORK=os a bare os.fork() that keeps every descriptor of the worker);
    its pid goes to counts/grandchild-*.txt. Then the call takes SW_SLOW_S seconds (default 0)."""
    sleep_s = float(os.environ.get("SW_SLEEP_S", "120"))
    if os.environ.get("SW_FORK") == "os":
        pid = os.fork()
        if pid == 0:
            time.sleep(sleep_s)
            os._exit(0)
    else:
        pid = subprocess.Popen(
            [sys.executable, "-c", f"import time; time.sleep({sleep_s})"], stdin=subprocess.DEVNULL
        ).pid
    _note("grandchild", str(pid))
    time.sleep(float(os.environ.get("SW_SLOW_S", "0")))


def chatty(case: dict[str, Any] | None = None) -> None:
    """Prints SW_PRINT_MB megabytes (default 4) in 64 KB lines; counts its calls."""
    line = "y" * 65535
    for _ in range(int(float(os.environ.get("SW_PRINT_MB", "4")) * 16)):
        print(line)
    _note("chatty")
