"""A small per-user registry of the stages running on this box, for ``soakwatch ps``.

A stage writes one JSON file (run dir, pid, stage name) into the registry once its
control socket is up and removes it when it ends. A stage killed hard leaves its
file behind: :func:`running` drops every entry whose process is gone or whose
control socket no longer answers, so the list cleans itself on every look.

Where (the first that applies)::

    $SOAKWATCH_STATE_DIR/running/      tests, or a shared box with its own policy
    $XDG_RUNTIME_DIR/soakwatch/running/ per-user tmpfs on systemd machines (gone at logout)
    ~/.soakwatch/running/

The directory is created mode 0700; the registry never stops a stage: every write
that fails is ignored (``ps`` then does not list that stage, its socket still works).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soakwatch.control import wire as wire
from soakwatch.control._connect import connect
from soakwatch.core import platform as plat

__all__ = ["Entry", "register", "registry_dir", "running", "socket_answers", "unregister"]

STATE_ENV = "SOAKWATCH_STATE_DIR"
#: how long a liveness probe waits for the control socket to accept
PROBE_TIMEOUT = 1.0
DIR_MODE = 0o700


@dataclass(frozen=True)
class Entry:
    """One registered stage."""

    run_dir: Path
    pid: int
    stage: str
    started: float
    path: Path  # the registry file


def registry_dir() -> Path:
    """The per-user directory that holds one file per running stage."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit) / "running"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir() and os.access(runtime, os.W_OK):
        return Path(runtime) / "soakwatch" / "running"
    return Path.home() / ".soakwatch" / "running"


def _entry_path(run_dir: Path) -> Path:
    digest = hashlib.sha1(str(run_dir.resolve()).encode(), usedforsecurity=False).hexdigest()[:16]
    return registry_dir() / f"{digest}.json"


def register(run_dir: Path, stage: str, pid: int | None = None) -> Path | None:
    """Record a running stage; the entry's path, or None when the registry is not writable."""
    path = _entry_path(run_dir)
    data = {"run_dir": str(run_dir.resolve()), "pid": pid or os.getpid(), "stage": stage, "started": time.time()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def unregister(run_dir: Path) -> None:
    """Forget a stage (it ended); a missing entry is fine."""
    with contextlib.suppress(OSError):
        _entry_path(run_dir).unlink()


def pid_alive(pid: int) -> bool:
    """True while a process with this pid runs (a zombie, exited but not yet reaped, does not)."""
    if not plat.pid_exists(pid):
        return False
    try:  # Linux: the state letter follows the parenthesised command name
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        return stat[stat.rindex(")") + 2 :][:1] != "Z"
    except (OSError, ValueError):
        return True


def socket_answers(run_dir: Path, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when the run's control socket accepts a connection now."""
    ep = wire.endpoint(run_dir)
    if ep is None:
        return False
    try:
        connect(ep, timeout).close()
    except OSError:
        return False
    return True


def _read(path: Path) -> Entry | None:
    try:
        obj: Any = json.loads(path.read_text(encoding="utf-8"))
        return Entry(Path(obj["run_dir"]), int(obj["pid"]), str(obj["stage"]), float(obj["started"]), path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running(clean: bool = True) -> list[Entry]:
    """Registered stages whose process lives and whose socket answers, oldest first.

    With ``clean`` the files of dead entries (and unreadable ones) are removed.
    """
    folder = registry_dir()
    try:
        paths = sorted(folder.glob("*.json"))
    except OSError:
        return []
    alive: list[Entry] = []
    for path in paths:
        entry = _read(path)
        if entry is not None and pid_alive(entry.pid) and socket_answers(entry.run_dir):
            alive.append(entry)
        elif clean:
            with contextlib.suppress(OSError):
                path.unlink()
    return sorted(alive, key=lambda e: e.started)
