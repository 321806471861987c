"""One supervised node process: start, readiness, exit codes, restart policy, signals.

Life of a node::

    launch ─► running ─(exit nobody asked for)─► policy: restart after backoff ─► running
       │         │                               └► never / clean exit / max_restarts ─► down
       │         ├─(kill / stop by soakwatch or chaos: ``expected``)─► down ─(chaos)─► launch
       │         └─(SIGSTOP by chaos)─► paused ─(SIGCONT)─► running
       └─ each start appends a marker line to stdout.log and stderr.log

Every node runs in its own session (process group), so signals reach the node and any
children it started, and the terminal's Ctrl-C reaches only soakwatch. Events:
``node_start``, ``node_ready`` / ``node_not_ready``, ``node_exit`` (code, signal,
``expected``, reason, uptime), ``node_restart`` (reason, restarts, delay), ``node_gave_up``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from soakwatch.config.nodes import NodeSpec, RestartPolicy
from soakwatch.core import platform as plat
from soakwatch.core.events import EventLog, utc_now
from soakwatch.nodes.ready import wait_ready

__all__ = ["NodePaths", "NodeProcess", "backoff_delay", "describe_exit", "should_restart"]

#: a node that ran this long before failing starts its backoff from the beginning again
BACKOFF_RESET_S = 60.0
#: bytes of stderr quoted in an exit event
STDERR_TAIL = 400
#: how long a waiter looks again for a state change
POLL_S = 0.05

NodeState = Literal["new", "running", "paused", "down", "stopped", "gave_up"]


def should_restart(policy: RestartPolicy, code: int, expected: bool) -> bool:
    """Whether the restart policy restarts a node that exited with ``code`` (negative: signal)."""
    if expected or policy == "never":
        return False
    return policy == "always" or code != 0


def backoff_delay(spec: NodeSpec, consecutive: int) -> float:
    """Seconds before the ``consecutive``-th quick restart in a row (1-based): doubles, capped."""
    if spec.backoff <= 0:
        return 0.0
    return float(min(spec.backoff_max, spec.backoff * 2 ** max(0, consecutive - 1)))


def describe_exit(code: int) -> tuple[str, str | None]:
    """(``"exited with code 3"`` / ``"killed by SIGKILL"``, the signal name or None)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}", name
    return f"exited with code {code}", None


@dataclass(frozen=True)
class NodePaths:
    """Where one node runs and writes, resolved (placeholders filled, inside the sandbox)."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]
    node_dir: Path
    report_dir: Path
    ready_file: Path | None


class NodeProcess:
    """Starts and supervises one node; thread-safe. ``events`` receives every transition."""

    def __init__(self, spec: NodeSpec, paths: NodePaths, events: EventLog) -> None:
        self.spec = spec
        self.paths = paths
        self.events = events
        self.proc: subprocess.Popen[bytes] | None = None
        self.state: NodeState = "new"
        self.starts = 0
        #: restarts of any cause (policy and chaos): the ``restarts[<id>]`` series
        self.restarts = 0
        #: restarts by the policy, bounded by ``max_restarts``
        self.policy_restarts = 0
        self._consecutive = 0
        self._started_at = 0.0
        self._expect: str | None = None
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._watcher: threading.Thread | None = None

    # ---------------------------------------------------------------- queries
    @property
    def id(self) -> str:
        return self.spec.id

    def pid(self) -> int | None:
        proc = self.proc
        return proc.pid if proc is not None and proc.returncode is None else None

    def alive(self) -> bool:
        return self.pid() is not None

    # ---------------------------------------------------------------- starting
    def launch(self, reason: str) -> int:
        """Start the node now; its pid. OSError when the program cannot be started."""
        with self._lock:
            p = self.paths
            for name in ("stdout.log", "stderr.log"):
                with (p.node_dir / name).open("ab") as fh:
                    fh.write(f"--- soakwatch: start {self.starts + 1} of node {self.id} at {utc_now()} ---\n".encode())
            out = (p.node_dir / "stdout.log").open("ab")
            err = (p.node_dir / "stderr.log").open("ab")
            try:
                self._started_at = time.time()
                self.proc = subprocess.Popen(
                    p.argv,
                    cwd=p.cwd,
                    env=p.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    **plat.new_group_kwargs(),
                )
            finally:
                out.close()
                err.close()
            self.starts += 1
            self.state = "running"
            pid = self.proc.pid
            (p.node_dir / "pid").write_text(f"{pid}\n")
        self.events.emit(
            "node_start",
            f"node {self.id} started (pid {pid}): {reason}",
            "info",
            node=self.id,
            pid=pid,
            start=self.starts,
            reason=reason,
            argv=p.argv,
        )
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._watch, name=f"node-{self.id}", daemon=True)
            self._watcher.start()
        return pid

    def wait_ready(self, stop: threading.Event, limit: float | None = None) -> tuple[bool, str]:
        """Wait for the readiness check (ready at once without one); records ``node_ready``/``node_not_ready``.

        ``limit`` caps the check's timeout (the stage's duration at the first start).
        """
        check = self.spec.ready
        if check is None:
            ok = self.alive()
            how = "running (no readiness check)" if ok else "not running"
        else:
            proc = self.proc
            ok, how = wait_ready(
                check,
                self.paths.ready_file,
                self._started_at,
                lambda: None if proc is None else proc.poll(),
                stop,
                limit,
            )
        if ok:
            self.events.emit("node_ready", f"node {self.id} {how}", "info", node=self.id, pid=self.pid())
        else:
            self.events.emit(
                "node_not_ready",
                f"node {self.id} {how}" + self._stderr_hint(),
                "error",
                node=self.id,
                reason=how,
            )
        return ok, how

    # ---------------------------------------------------------------- signals
    def signal(self, sig: int, expect: str | None = None) -> int | None:
        """Send ``sig`` to the node's process group; the pid it reached, or None when it is not running.
        With ``expect``, the exit that follows is recorded as expected (soakwatch caused it)."""
        with self._lock:
            pid = self.pid()
            if pid is None:
                return None
            if expect is not None:
                self._expect = expect
            try:
                plat.signal_group(pid, sig)
            except ProcessLookupError:
                return None
            if sig == plat.SIGSTOP:
                self.state = "paused"
            elif sig == plat.SIGCONT and self.state == "paused":
                self.state = "running"
            return pid

    def terminate(self, reason: str, grace: float | None = None) -> int | None:
        """SIGTERM (and SIGCONT, so a paused node can act on it), SIGKILL after ``grace``; the exit code."""
        proc = self.proc
        if proc is None or self.signal(plat.SIGTERM, expect=reason) is None:
            return None
        self.signal(plat.SIGCONT)
        try:
            return proc.wait(self.spec.stop_grace if grace is None else grace)
        except subprocess.TimeoutExpired:
            self.signal(plat.SIGKILL, expect=reason)
            with contextlib.suppress(subprocess.TimeoutExpired):
                return proc.wait(5.0)
            return None

    def wait_exit(self, timeout: float) -> bool:
        """Wait until the current process is gone and its exit was recorded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.proc is None or self.state in ("down", "stopped", "gave_up"):
                    return True
            time.sleep(POLL_S)
        return False

    def close(self, grace: float | None = None) -> None:
        """Stop supervising and stop the node (the stage ends)."""
        with self._lock:  # after this no relaunch or policy restart starts a process
            self._closing.set()
        self.terminate("the stage ended", grace)
        watcher = self._watcher
        if watcher is not None:
            watcher.join(5.0)
        with self._lock:
            self.state = "stopped"

    # ---------------------------------------------------------------- supervision
    def _watch(self) -> None:
        while True:
            proc = self.proc
            if proc is None:
                if self._closing.wait(POLL_S):
                    return
                continue
            code = proc.wait()
            restart = self._on_exit(proc, code)
            if restart is not None and not self._restart(restart):
                return
            if self._closing.is_set() and self.proc is None:
                return

    def _on_exit(self, proc: subprocess.Popen[bytes], code: int) -> float | None:
        """Record the exit; the delay before a policy restart, or None for no restart."""
        with self._lock:
            if self.proc is not proc:
                return None
            expected_reason = self._expect
            self._expect = None
            self.proc = None
            expected = expected_reason is not None or self._closing.is_set()
            uptime = time.time() - self._started_at
            restart = should_restart(self.spec.restart, code, expected)
            gave_up = restart and self.policy_restarts >= self.spec.max_restarts
            if restart and not gave_up:
                self._consecutive = 1 if uptime >= BACKOFF_RESET_S else self._consecutive + 1
                delay: float | None = backoff_delay(self.spec, self._consecutive)
            else:
                delay = None
            self.state = "gave_up" if gave_up else "down"
        how, sig = describe_exit(code)
        why = f" ({expected_reason})" if expected_reason else (" (the stage ended)" if expected else "")
        self.events.emit(
            "node_exit",
            f"node {self.id} (pid {proc.pid}) {how}{why}" + ("" if expected else self._stderr_hint()),
            "info" if expected else "error",
            node=self.id,
            pid=proc.pid,
            code=code,
            signal=sig,
            expected=expected,
            reason=expected_reason,
            uptime=round(uptime, 3),
        )
        if gave_up:
            self.events.emit(
                "node_gave_up",
                f"node {self.id}: not restarted, {self.policy_restarts} restarts already (max_restarts)",
                "error",
                node=self.id,
                restarts=self.policy_restarts,
            )
        return delay

    def _restart(self, delay: float) -> bool:
        """A policy restart after ``delay``; False when the stage is ending."""
        if self._closing.wait(delay):
            return False
        with self._lock:
            if self._closing.is_set() or self.proc is not None:
                return not self._closing.is_set()
            self.policy_restarts += 1
            self.restarts += 1
            try:
                pid = self.launch(f"restart {self.policy_restarts} by policy {self.spec.restart}")
            except OSError as exc:
                self.state = "gave_up"
                self.events.emit(
                    "node_gave_up", f"node {self.id}: restart failed: {exc}", "error", node=self.id, error=str(exc)
                )
                return False
        self.events.emit(
            "node_restart",
            f"node {self.id} restarted by policy {self.spec.restart} after {delay:g}s (pid {pid})",
            "warn",
            node=self.id,
            pid=pid,
            reason="policy",
            restarts=self.restarts,
            delay=delay,
        )
        self.wait_ready(self._closing)
        return True

    def relaunch(self, reason: str) -> int:
        """Start the node again for chaos (not counted against ``max_restarts``); its pid."""
        with self._lock:
            if self._closing.is_set():
                raise RuntimeError(f"node {self.id} is not restarted: the stage is ending")
            if self.proc is not None:
                raise RuntimeError(f"node {self.id} is still running")
            self.restarts += 1
            pid = self.launch(reason)
        self.events.emit(
            "node_restart",
            f"node {self.id} restarted: {reason} (pid {pid})",
            "warn",
            node=self.id,
            pid=pid,
            reason="chaos",
            restarts=self.restarts,
            delay=0.0,
        )
        return pid

    def _stderr_hint(self) -> str:
        try:
            with (self.paths.node_dir / "stderr.log").open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - STDERR_TAIL))
                tail = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [ln for ln in tail.splitlines() if ln.strip() and not ln.startswith("--- soakwatch:")]
        return f"; stderr: {lines[-1][:200]}" if lines else ""
