"""Stages that outlive their terminal: ``run --detach``, the TUI's detach key, and hang-ups.

``run --detach`` (and ``demo --detach``) starts the stage exactly as ``run`` on a
terminal does (:func:`soakwatch.views.spawn.spawn_stage`: ``python -m soakwatch ...
--no-tui --ready-fd N`` in a session of its own, stdin from /dev/null, output in
``<run_dir>/stage.log``), waits until its control socket answers, prints the run dir
and exits 0. Nothing ties the stage to this process or this terminal any more;
``soakwatch attach``, ``ps`` and ``ctl`` find it again.

Hang-ups (SIGHUP: the SSH connection dropped):

- a TUI ``run``: the stage runs in its own session and never sees the hang-up; the
  CLI process leaves at once (its terminal is gone), unless ``--stop-on-hangup``,
  which passes the SIGHUP on to the stage, which then stops gracefully;
- a headless ``run --no-tui`` in the foreground: the stage goes on, its output from
  then on in ``stage.log`` (:func:`output_to_log`), or with ``--stop-on-hangup`` it
  stops gracefully (``Stage.install_signal_handlers``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from soakwatch.config.constants import EXIT_USAGE, SOCKET_WAIT
from soakwatch.core import platform as plat

__all__ = ["EXIT_HANGUP", "on_hangup_leave", "output_to_log", "print_detached", "run_detached"]

#: how long ``--detach`` waits for the stage's control socket once the stage reported its run dir
#: the CLI's exit status when its terminal hung up (128 + SIGHUP, as a shell reports it)
EXIT_HANGUP = plat.EXIT_HANGUP


def output_to_log(run_dir: Path) -> Path:
    """Point this process's stdout and stderr at ``<run_dir>/stage.log`` (append) and stdin at
    /dev/null, as ``nohup`` would: the terminal is gone, and what the stage prints is evidence."""
    log = run_dir / "stage.log"
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    return log


def on_hangup_leave(proc: subprocess.Popen[bytes], stop_on_hangup: bool) -> None:
    """In the CLI process of a TUI ``run``: on SIGHUP leave at once (the terminal is gone,
    the stage goes on), first passing the SIGHUP on to the stage when ``stop_on_hangup``
    (the stage child was started with the same flag, so it stops gracefully)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def leave(signum: int, frame: FrameType | None) -> None:
        if stop_on_hangup and proc.poll() is None:
            with contextlib.suppress(OSError):
                plat.forward_hangup(proc)
        # no cleanup worth doing: the terminal (the TUI's screen) is gone, the stage owns the run dir
        os._exit(EXIT_HANGUP)

    for sig in plat.HANGUP_SIGNALS:  # none on Windows: closing the console stops the stage (SIGBREAK)
        signal.signal(sig, leave)


def print_detached(run_dir: Path, pid: int, file: object = None) -> None:
    """How to find the stage again, on stderr (stdout carries only the run dir where it matters)."""
    out = file if file is not None else sys.stderr
    print(
        f"soakwatch: the stage goes on in the background (pid {pid}); output in {run_dir / 'stage.log'}\n"
        f"  watch it:     soakwatch attach {run_dir}\n"
        f"  command it:   soakwatch ctl {run_dir} pause|resume|abort|truncate|chaos NAME\n"
        f"  list stages:  soakwatch ps",
        file=out,  # type: ignore[arg-type]
        flush=True,
    )


def run_detached(argv: Sequence[str]) -> int:
    """Start the stage in the background: 0 once its control socket answers (the run dir on
    stdout), 2 with the stage's own message when it refused to start."""
    from soakwatch.control.client import wait_for_control
    from soakwatch.views.spawn import spawn_stage

    proc, run_dir = spawn_stage(argv)
    if run_dir is None:
        code = proc.returncode if proc.returncode is not None else proc.wait()
        return EXIT_USAGE if code in (0, 1, EXIT_USAGE) else (128 - code if code < 0 else code)
    try:
        wait_for_control(run_dir, SOCKET_WAIT, alive=lambda: proc.poll() is None)
    except TimeoutError as exc:
        if proc.poll() is None:  # running, but deaf: say so, it is still the operator's stage
            print(f"soakwatch: {exc}; the stage runs (pid {proc.pid})", file=sys.stderr, flush=True)
            print(run_dir, flush=True)
            return EXIT_USAGE
        code = proc.returncode
        print(run_dir, flush=True)
        print(
            f"soakwatch: the stage already ended (exit {code}); `soakwatch attach {run_dir}` replays it",
            file=sys.stderr,
            flush=True,
        )
        return 128 - code if code < 0 else code
    print(run_dir, flush=True)
    print_detached(run_dir, proc.pid)
    return 0
