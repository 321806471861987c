"""Sessions and process groups of a worker: the POSIX calls, and what stands in on Windows.

A worker leads its own session and group (:func:`lead_own_session`), ends the whole group when
the monitor dies (:func:`arm_parent_death`, :func:`kill_own_group`), and the monitor finds what
the target left in that session (:func:`group_members`) and ends it (:func:`kill_group`).
Windows has no sessions or groups of this kind: there these calls do nothing and find nothing,
and the worker alone ends (its tree is ended by :func:`soakwatch.core.platform.signal_group`).
Only the standard library here (the worker imports it before the target): psutil is passed in.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

__all__ = ["arm_parent_death", "group_members", "kill_group", "kill_own_group", "lead_own_session"]

PR_SET_PDEATHSIG = 1


class _Proc(Protocol):
    """What :func:`group_members` needs of a ``psutil.Process``."""

    @property
    def pid(self) -> int: ...


def lead_own_session() -> None:
    """Make this process the leader of a new session and process group (no-op on Windows, or
    when it already leads a group)."""
    if sys.platform != "win32":
        with contextlib.suppress(OSError):
            os.setsid()


def kill_own_group() -> None:
    """SIGKILL this process's group (the worker and every process of the target still in it);
    on Windows nothing (the caller then ends itself)."""
    if sys.platform != "win32":
        with contextlib.suppress(OSError):
            os.killpg(os.getpgrp(), signal.SIGKILL)


def arm_parent_death(sig: int) -> bool:
    """Ask the kernel for ``sig`` when the parent dies, even by SIGKILL (Linux ``prctl``
    ``PR_SET_PDEATHSIG`` through ctypes); False where there is no such call."""
    if sys.platform == "linux":
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
        except (OSError, AttributeError):
            return False
    return False


P = TypeVar("P", bound=_Proc)


def group_members(leader: int, procs: Iterable[P], alive: Callable[[P], bool]) -> list[P]:
    """Of ``procs``, those (other than ``leader``) in the session or process group ``leader``
    leads and ``alive`` (not zombies); none on Windows."""
    found: list[P] = []
    if sys.platform == "win32":
        return found
    for proc in procs:
        pid = proc.pid
        if pid == leader:
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to look at
            if (os.getsid(pid) == leader or os.getpgid(pid) == leader) and alive(proc):
                found.append(proc)
    return found


def kill_group(leader: int) -> None:
    """SIGKILL the process group ``leader`` leads (gone already: nothing); nothing on Windows."""
    if sys.platform != "win32":
        with contextlib.suppress(OSError):
            os.killpg(leader, signal.SIGKILL)
