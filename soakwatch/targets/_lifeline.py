"""A worker's life line to the monitor: its own session and process group, and the end of the
whole group (the worker and whatever the target started) when the monitor dies.

Imports only the standard library (it runs in the worker before the target is imported).

- ``os.setsid()``: the worker leads its own session and process group, so a target that signals
  its group (``os.killpg(os.getpgrp(), SIGTERM)``) reaches only its own worker, and the monitor
  can end the worker with everything it started by one ``killpg``.
- Linux: ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` (through ctypes): the kernel sends SIGTERM when the
  monitor dies, even by SIGKILL; the worker's SIGTERM handler kills its whole group.
- Everywhere: a daemon thread looks at the parent pid every :data:`WATCH_SECONDS` and kills the
  group once the monitor is gone (the portable fallback, and a second chance when the main thread
  cannot run the handler).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from types import FrameType

__all__ = ["WATCH_SECONDS", "kill_own_group", "set_lifeline"]

#: how often the fallback thread looks whether the monitor still runs
WATCH_SECONDS = 0.5
PR_SET_PDEATHSIG = 1


def kill_own_group(signum: int | None = None, frame: FrameType | None = None) -> None:
    """SIGKILL this process's group: the worker and every process of the target still in it."""
    if sys.platform != "win32":  # Windows: no process groups of this kind; the worker alone ends
        with contextlib.suppress(OSError):
            os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(128 + signal.SIGTERM)  # not reached unless the group could not be signalled


def set_lifeline(monitor_pid: int) -> None:
    """Own session and group; end the group when ``monitor_pid`` is no longer the parent."""
    if sys.platform != "win32":
        with contextlib.suppress(OSError):  # already a group leader: keep the group it has
            os.setsid()
        signal.signal(signal.SIGTERM, kill_own_group)
        if sys.platform.startswith("linux"):
            _pdeathsig(signal.SIGTERM)
    if os.getppid() != monitor_pid:  # it died before the death signal was armed
        kill_own_group()
    threading.Thread(target=_watch, args=(monitor_pid,), name="soakwatch-lifeline", daemon=True).start()


def _pdeathsig(sig: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl here: the watching thread does the job
        pass


def _watch(monitor_pid: int) -> None:
    while os.getppid() == monitor_pid:
        time.sleep(WATCH_SECONDS)
    kill_own_group()
