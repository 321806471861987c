"""``soakwatch attach RUN_DIR`` and ``soakwatch ctl RUN_DIR COMMAND``.

``attach`` opens the TUI on the stage running in RUN_DIR through its control socket
(any number of attaches at once; closing one, or losing its SSH connection, never
stops the stage). When no stage answers there — the run finished or crashed — it
opens the same TUI over the recorded run (:class:`soakwatch.views.replay.ReplaySource`)
with a time cursor.

``ctl`` sends one command for scripts: exit 0 with the stage's answer, 2 when it
refused, the command is malformed, or no stage runs there.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soakwatch.config.constants import (
    CONTROL_QUICK_TIMEOUT,
    CONTROL_REPLY_TIMEOUT,
    DEFAULT_REFRESH_HZ,
    EXIT_OK,
    EXIT_USAGE,
)
from soakwatch.config.errors import UsageError

if TYPE_CHECKING:
    from soakwatch.core.plugins import Plugin

__all__ = ["CTL_COMMANDS", "attach", "ctl", "ctl_request", "recorded_refresh_hz"]

#: ``ctl`` commands and what they take: name on the command line → (stage command, usage)
CTL_COMMANDS: dict[str, tuple[str, str]] = {
    "pause": ("pause", "pause"),
    "resume": ("resume", "resume"),
    "abort": ("abort", "abort"),
    "stop": ("stop", "stop"),
    "truncate": ("truncate", "truncate [FILE ...]"),
    "chaos": ("chaos", "chaos NAME"),
    "auto-abort": ("auto_abort", "auto-abort on|off"),
}
_ON_OFF = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}


def ctl_request(command: str, words: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The stage command and its args for ``ctl COMMAND ARG...``; UsageError when malformed."""
    if command not in CTL_COMMANDS:
        raise UsageError(f"unknown command (one of {', '.join(CTL_COMMANDS)})", where="ctl", value=command)
    name, usage = CTL_COMMANDS[command]
    if name == "truncate":
        return name, ({"files": list(words)} if words else {})
    if name == "chaos":
        if len(words) != 1:
            raise UsageError(f"usage: ctl RUN_DIR {usage}", where="ctl chaos", value=" ".join(words) or None)
        return name, {"action": words[0]}
    if name == "auto_abort":
        if len(words) != 1 or words[0].lower() not in _ON_OFF:
            raise UsageError(f"usage: ctl RUN_DIR {usage}", where="ctl auto-abort", value=" ".join(words) or None)
        return name, {"on": _ON_OFF[words[0].lower()]}
    if words:
        raise UsageError(f"usage: ctl RUN_DIR {usage}", where=f"ctl {command}", value=" ".join(words))
    return name, {}


def recorded_refresh_hz(run_dir: Path) -> float:
    """The stage's ``refresh_hz`` from its run_config.json (the TUI default when unreadable)."""
    from soakwatch.core.rundir_reader import read_profile

    hz = read_profile(run_dir).get("refresh_hz")
    return float(hz) if isinstance(hz, int | float) and not isinstance(hz, bool) and hz > 0 else DEFAULT_REFRESH_HZ


def _check_run_dir(run_dir: Path, where: str) -> None:
    if not run_dir.is_dir():
        raise UsageError("no such run directory", where=where, value=str(run_dir))


def ctl(run_dir: Path, command: str, words: Sequence[str]) -> int:
    """Send one command; print the answer (exit 0) or why not (exit 2)."""
    from soakwatch.control.client import ControlClient
    from soakwatch.core.source import CommandError

    name, args = ctl_request(command, words)
    _check_run_dir(run_dir, "ctl")
    try:
        client = ControlClient(run_dir, timeout=CONTROL_QUICK_TIMEOUT, reply_timeout=CONTROL_REPLY_TIMEOUT)
    except (TimeoutError, OSError):
        print(f"soakwatch: no stage is running in {run_dir} (no control socket answers)", file=sys.stderr)
        return EXIT_USAGE
    try:
        client.request("hello", {"client": "ctl"})  # the stage records the command as ctl's
        answer = client.command(name, args)
    except CommandError as exc:
        print(f"soakwatch: {command} refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (TimeoutError, OSError) as exc:
        print(
            f"soakwatch: {command}: gave up after {CONTROL_REPLY_TIMEOUT:g}s without an answer ({exc}); the socket "
            "accepted the connection but the stage did not reply: it may be stuck, or still busy with the command",
            file=sys.stderr,
        )
        return EXIT_USAGE
    finally:
        client.close()
    print(answer)
    return EXIT_OK


def running_run_dir() -> Path:
    """The run dir of the only, or else the most recently started, stage running on this box."""
    from soakwatch.control.registry import running

    entries = running()
    if not entries:
        raise UsageError("no stage is running on this box; give RUN_DIR (a finished run is replayed)", where="attach")
    newest = max(entries, key=lambda e: e.started)
    others = f" (the most recent of {len(entries)} running; `soakwatch ps` lists them)" if len(entries) > 1 else ""
    print(f"soakwatch: attaching to stage {newest.stage} in {newest.run_dir}{others}", file=sys.stderr, flush=True)
    return newest.run_dir


def attach(run_dir: Path, replay_plugins: Sequence[type[Plugin]]) -> int:
    """The TUI on the live stage in ``run_dir``, or a replay when none runs there (each of
    ``replay_plugins`` rebuilds its slice of the recorded snapshots)."""
    from soakwatch.control.registry import socket_answers
    from soakwatch.views.launch import DETACHED, wants_tui

    _check_run_dir(run_dir, "attach")
    run_dir = run_dir.resolve()
    live = socket_answers(run_dir)
    if not live and not (run_dir / "timeline.csv").is_file() and not (run_dir / "events.jsonl").is_file():
        raise UsageError("not a run directory (no timeline.csv or events.jsonl)", where="attach", value=str(run_dir))
    if not wants_tui(no_tui=False):
        raise UsageError(
            "attach needs a terminal; for scripts use `soakwatch ctl` or `soakwatch report`",
            where="attach",
            value=str(run_dir),
        )
    from soakwatch.tui.app import make_app

    if not live:
        from soakwatch.views.replay import ReplaySource

        source = ReplaySource(run_dir, replay_plugins)
        make_app(source, refresh_hz=source.refresh_hz, replay=True).run()
        return EXIT_OK
    from soakwatch.control.client import SocketSource

    app = make_app(SocketSource(run_dir, client="attached tui"), refresh_hz=recorded_refresh_hz(run_dir))
    result = app.run()
    last = app.last_snapshot
    if last is not None and last.finished:
        print(f"soakwatch: stage {last.stage} ended: {last.state} (exit {last.exit_code}); run dir {run_dir}")
        return last.exit_code if last.exit_code is not None else EXIT_OK
    how = "detached" if result == DETACHED else "closed the view"
    print(f"soakwatch: {how}; the stage goes on. Re-attach: soakwatch attach {run_dir}", flush=True)
    return EXIT_OK
