"""A worker's life line to the monitor: its own session and process group, and the end of the
whole group (the worker and whatever the target started) when the monitor dies.

Imports only the standard library and soakwatch's platform module (it runs in the worker
before the target is imported).

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

import os
import signal
import threading
import time
from types import FrameType

from soakwatch.core import platform as plat

__all__ = ["WATCH_SECONDS", "kill_own_group", "set_lifeline"]

#: how often the fallback thread looks whether the monitor still runs
WATCH_SECONDS = 0.5


def kill_own_group(signum: int | None = None, frame: FrameType | None = None) -> None:
    """SIGKILL this process's group: the worker and every process of the target still in it."""
    plat.kill_own_group()
    os._exit(128 + plat.SIGTERM)  # not reached unless the group could not be signalled (or Windows)


def set_lifeline(monitor_pid: int) -> None:
    """Own session and group; end the group when ``monitor_pid`` is no longer the parent."""
    plat.lead_own_session()
    signal.signal(plat.SIGTERM, kill_own_group)
    plat.arm_parent_death(plat.SIGTERM)
    if os.getppid() != monitor_pid:  # it died before the death signal was armed
        kill_own_group()
    threading.Thread(target=_watch, args=(monitor_pid,), name="soakwatch-lifeline", daemon=True).start()


def _watch(monitor_pid: int) -> None:
    while os.getppid() == monitor_pid:
        time.sleep(WATCH_SECONDS)
    kill_own_group()
