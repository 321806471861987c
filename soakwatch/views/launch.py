"""``run`` / ``demo`` on a terminal: the stage in a child process, the TUI in this one.

DESIGN.md: the TUI never shares a process (or a GIL) with the calls it measures. So
the CLI starts ``python -m soakwatch <same args> --no-tui --ready-fd N`` in a session
of its own (a Ctrl-C or a hang-up of this terminal does not reach it), with its
output in ``<run_dir>/stage.log``; reads the run dir from the ready pipe once the
stage is prepared; waits for the control socket; runs the TUI over a
:class:`~soakwatch.control.client.SocketSource`; and exits with the stage's exit code.

Closing the TUI never stops the stage: while it still runs, this process follows it
headless over the same socket (Ctrl-C there stops it gracefully, as in a headless
run). If the TUI cannot start or dies, the same headless follow takes over.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soakwatch.core.reports import ReportSection

from soakwatch.config.constants import SOCKET_WAIT
from soakwatch.core import platform as plat
from soakwatch.views.detach import on_hangup_leave, print_detached
from soakwatch.views.spawn import STAGE_LOG, exit_code_of, spawn_stage, write_ready

__all__ = ["DETACHED", "run_with_tui", "spawn_stage", "wants_tui", "write_ready"]

# spawn_stage and write_ready are re-exported from soakwatch.views.spawn for the CLI

#: how long the TUI waits for the stage's control socket after the stage reported its run dir
#: a headless follower's wait for the next snapshot before it checks whether the stage lives
FOLLOW_POLL = 1.0
#: what the TUI's app returns when the operator detached (the stage goes on, the CLI exits 0)
DETACHED = "detach"


def wants_tui(no_tui: bool) -> bool:
    """True when the TUI can and should open: a terminal on both ends and no --no-tui."""
    if no_tui or os.environ.get("TERM") == "dumb":
        return False
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def run_with_tui(
    argv: Sequence[str], profile: Any, sections: Sequence[ReportSection], stop_on_hangup: bool = False
) -> int:
    """Start the stage as a child, show the TUI over its socket; the stage's exit code.

    The TUI's detach key closes the UI and leaves the stage running (exit 0, with the
    command that re-attaches); a hang-up of this terminal does the same, or stops the
    stage gracefully with ``stop_on_hangup``.
    """
    proc, run_dir = spawn_stage(argv)
    if run_dir is None:
        return exit_code_of(proc.wait())

    on_hangup_leave(proc, stop_on_hangup)
    print(f"soakwatch: stage {profile.name} → {run_dir} (pid {proc.pid}, output in {STAGE_LOG})", flush=True)
    if _socket_up(run_dir, proc):
        result = _open_tui(run_dir, float(profile.refresh_hz))
        if result == DETACHED and proc.poll() is None:
            print_detached(run_dir, proc.pid)
            return 0
    if proc.poll() is None:
        print("soakwatch: the stage goes on; following it here (Ctrl-C stops it gracefully)", flush=True)
        _follow(run_dir, proc, float(profile.status_every))
    code = exit_code_of(proc.wait())
    from soakwatch.core.reports import build_summary
    from soakwatch.views.headless import print_summary

    with contextlib.suppress(Exception):  # the run dir is the record; a summary we cannot print is no failure
        print_summary(build_summary(run_dir, sections))
    return code


def _socket_up(run_dir: Path, proc: subprocess.Popen[bytes]) -> bool:
    from soakwatch.control.client import wait_for_control

    try:
        wait_for_control(run_dir, SOCKET_WAIT, alive=lambda: proc.poll() is None)
    except TimeoutError as exc:
        if proc.poll() is None:
            print(f"soakwatch: {exc}; following headless", file=sys.stderr, flush=True)
        return False
    except KeyboardInterrupt:
        plat.interrupt(proc)
        return False
    return True


def _open_tui(run_dir: Path, refresh_hz: float) -> str | None:
    """Run the TUI until the operator closes it: the app's result (:data:`DETACHED` when the
    operator detached), or None (also when it could not run)."""
    try:
        from soakwatch.tui.app import make_app
    except ImportError as exc:
        print(f"soakwatch: the TUI is not available ({exc}); following headless", file=sys.stderr, flush=True)
        return None
    from soakwatch.control.client import SocketSource

    try:
        app = make_app(SocketSource(run_dir, client="tui"), refresh_hz=refresh_hz)
        result = app.run()
    except Exception as exc:  # no usable terminal, or a bug in the view: the stage is not affected
        print(f"soakwatch: the TUI stopped ({type(exc).__name__}: {exc})", file=sys.stderr, flush=True)
        return None
    return result if isinstance(result, str) else None


def _follow(run_dir: Path, proc: subprocess.Popen[bytes], status_every: float) -> None:
    """Headless status lines from the stage's socket until it ends; Ctrl-C stops the stage."""
    from soakwatch.control.client import ControlClient
    from soakwatch.views.headless import HeadlessView

    view = HeadlessView(status_every)
    client: ControlClient | None = None
    while proc.poll() is None:
        try:
            if client is None:
                client = ControlClient(run_dir, timeout=FOLLOW_POLL)
                client.request("subscribe")
            snap = client.next_snapshot(FOLLOW_POLL)
            if snap is not None:
                view(snap)
            elif client.gone:
                proc.wait()
        except KeyboardInterrupt:
            plat.interrupt(proc)  # graceful stop; a second Ctrl-C stops it now
        except (TimeoutError, OSError):
            if client is not None:
                client.close()
                client = None
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(FOLLOW_POLL)
        except Exception:  # e.g. CommandError: the socket is gone; wait for the stage
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(FOLLOW_POLL)
    if client is not None:
        client.close()
