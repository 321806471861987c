"""The command target: ``cmd:COMMAND`` runs one subprocess per call.

The command is split like a shell would (``shlex``) and run without a shell unless
``[cmd] shell = true``; placeholders (``{prompt}``, ``{index}``, … see
:mod:`soakwatch.targets.template`) are filled from the case in each argument, and the case
can also go to stdin as JSON (``[cmd] stdin = "json"``). Each call runs in its own
process group, so a timeout kills the command and everything it started. Outcomes::

    exit code in expect_exit   ok
    exit N                     the command failed; the message is the tail of its stderr
    signal SIGSEGV             the command was killed by a signal it did not ask for
    Timeout                    still running after the timeout: the group is SIGKILLed
    SpawnError                 the command could not be started (checked before the stage, too)
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soakwatch.config.cmd import CmdConfig
from soakwatch.config.errors import UsageError
from soakwatch.core import platform as plat
from soakwatch.core.recorder import ErrorRecord
from soakwatch.targets.loops import CANCELLED
from soakwatch.targets.runner import Runner
from soakwatch.targets.template import call_fields, fill_text, missing_fields, placeholders

__all__ = ["CmdRunner"]

#: time the killed process group gets to be reaped after a timeout
REAP_SECONDS = 2.0


def stderr_tail(raw: bytes, limit: int) -> str:
    """The last ``limit`` characters of stderr, on one line."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return "(no stderr)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    tail = " | ".join(lines[-5:])
    return tail if len(tail) <= limit else "…" + tail[-limit:]


class CmdRunner(Runner):
    """Runs ``cmd:...`` once per call, ``concurrency`` at a time."""

    def __init__(self, *args: Any, config: CmdConfig | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config or CmdConfig()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._procs_lock = threading.Lock()

    def prepare(self) -> None:
        cfg = self.config
        command = self.spec.spec[4:].strip()
        base = self.root or Path.cwd()
        self.cwd = (base / cfg.cwd).resolve() if cfg.cwd else base
        if not self.cwd.is_dir():
            raise UsageError("no such directory", where="cmd.cwd", value=cfg.cwd)
        self.env = {**os.environ, **cfg.env}
        if cfg.shell:
            self.argv = [command]
        else:
            try:
                self.argv = shlex.split(command)
            except ValueError as exc:
                raise UsageError(f"cannot split the command: {exc}", where="--target", value=self.spec.spec) from None
            self._check_program(self.argv[0])
        names = set().union(*(placeholders(a) for a in self.argv))
        missing = missing_fields(names, self.cases)
        if missing:
            why = "not in every case" if self.cases else "no --cases file to fill them from"
            raise UsageError(f"placeholders {', '.join(missing)}: {why}", where="--target", value=self.spec.spec)
        if cfg.stdin != "none" and not self.cases:
            raise UsageError(f'stdin = "{cfg.stdin}" needs a --cases file', where="cmd.stdin")
        self._templated = bool(names)
        self._ok = frozenset(cfg.expect_exit)

    def _check_program(self, program: str) -> None:
        if "/" in program:
            path = Path(program) if Path(program).is_absolute() else self.cwd / program
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise UsageError(f"{program!r} is not an executable file (in {self.cwd})", where="--target")
        elif shutil.which(program, path=self.env.get("PATH")) is None:
            raise UsageError(f"command {program!r} not found on PATH", where="--target", value=self.spec.spec)

    def _slots(self) -> list[Callable[[], None]]:
        return [self._slot for _ in range(self.plan.concurrency)]

    _cancelling = False

    def kill(self) -> None:
        """Stop now: the commands in flight are killed (cancelled: counted, not errors)."""
        self._cancelling = True
        super().kill()
        with self._procs_lock:
            procs = list(self._procs)
        for p in procs:
            _kill_group(p)

    # ---------------------------------------------------------------- one call
    def _argv_and_input(self, i: int) -> tuple[list[str], bytes | None]:
        cases = self.cases
        case = cases[i % len(cases)] if cases else None
        argv = self.argv
        if self._templated:
            fields = call_fields(case, i, f"call-{i}")
            if self.config.shell:
                quoted = {k: shlex.quote(v if isinstance(v, str) else json.dumps(v)) for k, v in fields.items()}
                argv = [fill_text(argv[0], quoted)]
            else:
                argv = [fill_text(a, fields) for a in argv]
        data: bytes | None = None
        if self.config.stdin == "json":
            data = (json.dumps(case) + "\n").encode()
        elif self.config.stdin == "text":
            data = (case if isinstance(case, str) else json.dumps(case)).encode()
        return argv, data

    def call(self, i: int) -> ErrorRecord | None:
        """Run the command for call ``i``; None when it succeeded."""
        cfg = self.config
        try:
            argv, data = self._argv_and_input(i)
        except (KeyError, IndexError, TypeError) as exc:
            return ErrorRecord("TemplateError", f"call {i}: cannot fill {exc}", i)
        try:
            proc = subprocess.Popen(
                argv,
                shell=cfg.shell,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                **plat.new_group_kwargs(),
            )
        except OSError as exc:
            return ErrorRecord("SpawnError", f"{argv[0]}: {exc.strerror or exc}", i)
        with self._procs_lock:
            self._procs.add(proc)
        try:
            try:
                _, err = proc.communicate(data, timeout=self.plan.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.communicate(timeout=REAP_SECONDS)
                return ErrorRecord("Timeout", f"call {i}: still running after {self.plan.timeout:g}s, killed", i, True)
        finally:
            with self._procs_lock:
                self._procs.discard(proc)
        rc = proc.returncode
        if rc in self._ok:
            return None
        if rc < 0 and self._cancelling:  # killed by cancel_in_flight: counted there, not an error
            return CANCELLED
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = str(-rc)
            return ErrorRecord(f"signal {name}", stderr_tail(err, cfg.stderr_tail), i)
        return ErrorRecord(f"exit {rc}", stderr_tail(err, cfg.stderr_tail), i)

    # ---------------------------------------------------------------- one slot
    def _slot(self) -> None:
        self.sync_chunks(self.call)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        plat.signal_group(proc.pid, plat.SIGKILL)
