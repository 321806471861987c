"""The monitor's side of a worker's process group: end the group, find and kill what the target
left running (its orphans), and start multiprocessing's helper without the monitor's output.

A worker leads its own session and group (:mod:`soakwatch.targets._lifeline`), so every process
the target starts is in that session unless it left it on purpose; those still alive once the
worker is gone are the target's orphans: killed, counted and reported by the runner.
"""

from __future__ import annotations

import contextlib
import os
import sys

import psutil

from soakwatch.core import platform as plat

__all__ = ["descendants_of", "end_group", "quiet_resource_tracker"]

#: how long the killed members of a group get to disappear
KILL_WAIT = 2.0


def _alive(proc: psutil.Process) -> bool:
    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:  # gone meanwhile, or not ours to look at
        return False


def end_group(leader: int, descendants: list[psutil.Process] | None = None) -> list[int]:
    """SIGKILL the group led by ``leader`` (a worker that has exited or been killed) and every
    process left in its session, plus ``descendants`` seen before it ended; the pids that were
    still running (the target's orphans), sorted. Nothing on Windows (no groups of this kind)."""
    # before the kill: a killed process may look a zombie
    left = {p.pid: p for p in plat.group_members(leader, psutil.process_iter(), _alive)}
    plat.kill_group(leader)
    for p in descendants or []:
        with contextlib.suppress(psutil.Error):
            if p.is_running() and _alive(p):
                left.setdefault(p.pid, p)
    for p in left.values():
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(list(left.values()), timeout=KILL_WAIT)
    return sorted(left)


def descendants_of(pid: int) -> list[psutil.Process]:
    """The processes below ``pid`` now (to catch a child that left the session), or [] when it is gone."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with its standard output and error on /dev/null:
    started by the first worker it would inherit the monitor's, and hold a ``| tee`` open after
    the monitor ended."""
    from multiprocessing import resource_tracker

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
