"""Starting the stage in a child process of its own session, and its ready pipe.

``python -m soakwatch <argv> --no-tui --ready-fd N``: the child writes its run dir to
the pipe once the stage is prepared; its output goes to ``<run_dir>/stage.log``. Used by
the TUI launcher (:mod:`soakwatch.views.launch`) and by ``--detach``
(:mod:`soakwatch.views.detach`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from soakwatch.core import platform as plat

__all__ = ["STAGE_LOG", "exit_code_of", "spawn_stage", "write_ready"]

STAGE_LOG = "stage.log"
EARLY_LOG_ENV = "SOAKWATCH_EARLY_LOG"


def write_ready(run_dir: Path, ready_fd: int) -> None:
    """In the stage child: move stdout/stderr into ``stage.log`` and tell the parent the run dir."""
    sys.stdout.flush()
    sys.stderr.flush()
    early = os.environ.pop(EARLY_LOG_ENV, None)
    with (run_dir / STAGE_LOG).open("ab") as fh:
        if early:
            with contextlib.suppress(OSError):
                fh.write(Path(early).read_bytes())
            fh.flush()
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
    ready_fd = plat.inherited_fd(ready_fd)  # the number the parent passed (a handle on Windows)
    try:
        os.write(ready_fd, (str(run_dir) + "\n").encode())
    finally:
        os.close(ready_fd)


def _read_ready(fd: int) -> str:
    chunks: list[bytes] = []
    try:
        while data := os.read(fd, 4096):
            chunks.append(data)
    finally:
        os.close(fd)
    return b"".join(chunks).decode(errors="replace").strip()


def exit_code_of(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def spawn_stage(argv: Sequence[str]) -> tuple[subprocess.Popen[bytes], Path | None]:
    """Start ``python -m soakwatch <argv> --no-tui --ready-fd N`` in a session of its own.

    Returns the child and its run dir, or None for the run dir when the stage did not
    start (its exit status is then final, its output already on our stderr). The child
    outlives this process and its terminal: own session, stdin from /dev/null, output
    in ``<run_dir>/stage.log``.
    """
    early = tempfile.NamedTemporaryFile(prefix="soakwatch-stage-", suffix=".log", delete=False)  # noqa: SIM115
    read_fd, write_fd = os.pipe()
    inherit, number = plat.pass_fd(write_fd)
    cmd = [sys.executable, "-m", "soakwatch", *argv, "--no-tui", "--ready-fd", str(number)]
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=early,
            stderr=subprocess.STDOUT,
            **inherit,
            **plat.new_group_kwargs(),
            env={**os.environ, EARLY_LOG_ENV: early.name},
        )
    finally:
        os.close(write_fd)
        early.close()
    try:
        run_dir_text = _read_ready(read_fd)
    except KeyboardInterrupt:  # before the stage started: stop it, as a headless run would
        plat.interrupt(proc)
        run_dir_text = ""
    if not run_dir_text:
        # the stage did not start (bad target, bad root, interrupted): its own output says why
        proc.wait()
        with contextlib.suppress(OSError):
            sys.stderr.write(Path(early.name).read_text(errors="replace"))
            os.unlink(early.name)
        return proc, None
    with contextlib.suppress(OSError):
        os.unlink(early.name)  # the stage copied it into stage.log
    return proc, Path(run_dir_text)
