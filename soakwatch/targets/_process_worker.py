"""One worker process of a process-isolated target: its shared-memory window, its start and its end."""

from __future__ import annotations

import contextlib
import mmap
import os
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from soakwatch.config.errors import UsageError
from soakwatch.targets import worker as _worker
from soakwatch.targets._groups import descendants_of, end_group
from soakwatch.targets.loops import CHUNK_MAX
from soakwatch.targets.spec import TargetSpec, root_hint

__all__ = ["START_TIMEOUT", "Worker", "reap_worker", "shm_dir", "spawn_worker"]

#: time a new worker gets to import the target
START_TIMEOUT = 60.0


@dataclass
class Worker:
    """A running worker: its process, its pipe and its shared-memory window; restarts and hangs so far."""

    slot: int
    proc: Any
    conn: Connection
    shm_path: str
    view: memoryview
    mm: Any
    restarts: int = 0
    hangs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def spawn_worker(
    ctx: Any,
    slot: int,
    restarts: int,
    *,
    spec: TargetSpec,
    root: Path | None,
    cases_path: str | None,
    shm_dir: str,
    log_dir: Path,
    timeout: float,
) -> tuple[Worker, bool]:
    """Start the worker of ``slot`` and wait until it has loaded the target: (the worker, whether
    the target is async). UsageError when it dies while starting or the target does not load."""
    shm_path = os.path.join(shm_dir, f"w{slot}")
    size = _worker.shm_size(CHUNK_MAX)
    with open(shm_path, "wb") as fh:
        fh.truncate(size)
    with open(shm_path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), size)
    view = memoryview(mm).cast("q")
    parent, child = ctx.Pipe()
    args = (
        child,
        spec.spec,
        str(root) if root else None,
        cases_path,
        shm_path,
        CHUNK_MAX,
        timeout,
        str(log_dir / f"worker-{slot}.log"),
        str(log_dir / f"hang-{slot}.txt"),
        os.getpid(),
    )
    proc = ctx.Process(target=_worker.main, args=args, name=f"soakwatch-worker-{slot}", daemon=True)
    proc.start()
    child.close()
    w = Worker(slot, proc, parent, shm_path, view, mm, restarts)
    deadline = time.monotonic() + START_TIMEOUT
    while not parent.poll(0.05):
        if not proc.is_alive() or time.monotonic() > deadline:
            code = proc.exitcode
            reap_worker(w, log_dir)
            raise UsageError(f"worker for {spec.spec!r} died while starting (exit code {code})", where="--target")
    msg = parent.recv()
    if msg[0] == "fatal":
        reap_worker(w, log_dir)
        top = spec.module.split(".")[0]
        # the target's own module is missing (not a dependency it imports): say where it was looked for
        hint = root_hint(spec.module, root) if f"No module named '{top}" in str(msg[1]) else ""
        raise UsageError(f"target {spec.spec!r} does not load: {msg[1]}{hint}", where="--target")
    return w, bool(msg[1])


def reap_worker(w: Worker, log_dir: Path) -> list[int]:
    """Kill the worker if it still runs, with its whole process group and every process the target
    left in its session; release its shared memory, drop its empty hang file. The pids of the
    target's processes that were still running (its orphans, now killed)."""
    left: list[int] = []
    try:
        below = descendants_of(w.proc.pid) if w.proc.pid else []
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(2)
        if w.proc.pid:
            left = end_group(w.proc.pid, below)
    except Exception:
        pass
    w.conn.close()
    w.view.release()
    w.mm.close()
    spare = log_dir / f"hang-{w.slot}.txt"
    with contextlib.suppress(OSError):
        if spare.stat().st_size == 0:  # the worker never hung: no dump file to keep
            spare.unlink()
    return left


def shm_dir() -> str | None:
    """/dev/shm when it can be written to (shared memory without disk), else None (the temp dir)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
