"""Chaos: the profile's ``[[chaos]]`` actions, fired at their time or on demand (TUI ``c``, socket).

Each action is a *window*: ``chaos_start`` when it begins, ``chaos_end`` when its effect
is over (the paused worker runs again, the written file is gone, the killed worker
was replaced), both as events and as lines in ``<run_dir>/chaos_events.log``, so gates
can exempt the window and the report can show cause next to effect. A refused action
(unknown name, already running, no worker to hit, a path outside the sandbox) is a
``chaos_refused`` event and a ``refused`` line, and the operator gets the reason.

Node actions (kill_node, restart_node, pause_node) act on the stage's
:class:`~soakwatch.nodes.plugin.NodesPlugin`; an exit they cause is recorded as an *expected*
``node_exit``, and a kill or restart window ends when the node is ready again. latency and
errors open a window on the runner's :class:`~soakwatch.core.inject.Injector`; burn_cpu
and hold_memory run helper child processes (which also end by themselves after their
window, should the monitor die), so the monitor is not the victim.

Windows run in their own threads; the stage thread only starts them. When the stage
ends, every open window is closed at once (SIGCONT, file restored, helpers stopped,
injection off), never left behind.
"""

from __future__ import annotations

import contextlib
import functools
import json
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

from soakwatch.chaos import actions as more
from soakwatch.config.chaos import NODE_ACTIONS, WORKER_ACTIONS, ChaosSpec
from soakwatch.config.errors import SandboxError, UsageError
from soakwatch.core import platform as plat
from soakwatch.core.event_types import Abort, ChaosEnd, ChaosStart, Operator, Signal
from soakwatch.core.events import Event, utc_now
from soakwatch.core.plugins import Plugin, ReplayFrame, StageContext
from soakwatch.core.sandbox import inside
from soakwatch.core.sandbox_fd import read_file, replace_file, unlink_file
from soakwatch.core.snapshot import ChaosView

if TYPE_CHECKING:
    from soakwatch.nodes.plugin import NodesPlugin

__all__ = ["CHAOS_LOG", "ChaosPlugin", "ChaosSpec"]

CHAOS_LOG = "chaos_events.log"
#: how long a kill_worker window waits for the runner to start the replacement worker
RESTART_WAIT = more.RESTART_WAIT
#: how often that wait looks at the target's pids
RESTART_POLL = 0.1
#: how long stop() waits for each window to close
JOIN_TIMEOUT = 5.0
#: events that mean the stage is stopping: open windows close at once, since a worker
#: frozen between calls would otherwise hold the runner (and the stage's end) until SIGCONT
STOP_EVENTS = (Abort, Signal)
STOP_COMMANDS = frozenset({"abort", "stop"})
#: an action's beginning: (spec, source) -> (what was done, the rest of the window)
Begin = Callable[[ChaosSpec, str], tuple[str, Callable[[], str]]]


class ChaosPlugin(Plugin):
    """Fires chaos actions and records their windows."""

    name = "chaos"

    def __init__(self, specs: list[ChaosSpec], nodes: NodesPlugin | None = None) -> None:
        self.specs = list(specs)
        self.nodes = nodes
        self._by_name = {s.name: s for s in self.specs}
        self._fired: set[str] = set()
        self._active: set[str] = set()
        #: files held by an open write_file window: another action on them would undo it wrongly
        self._held: dict[Path, str] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._log: IO[str] | None = None
        self._rng = random.Random()

    # ---------------------------------------------------------------- plugin hooks
    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        if ctx.profile.seed is not None:  # a reproducible run picks the same victims
            self._rng = random.Random(f"{ctx.profile.seed}:chaos")
        seen: set[str] = set()
        for i, spec in enumerate(self.specs):
            if spec.name in seen:
                raise UsageError(
                    "chaos action names must be unique", where="profile", field=f"chaos[{i}].name", value=spec.name
                )
            seen.add(spec.name)
            if spec.path is not None:
                inside(ctx.root, spec.path, f"chaos[{i}].path")
            if spec.action in NODE_ACTIONS and (self.nodes is None or spec.node not in self.nodes.nodes):
                raise UsageError(
                    "no such node in [[nodes]]", where="profile", field=f"chaos[{i}].node", value=spec.node
                )
        inline = ctx.profile.isolation == "inline" and ctx.workers is None  # Ray actors: workers anyway
        if inline and any(s.action in WORKER_ACTIONS for s in self.specs):
            names = ", ".join(s.name for s in self.specs if s.action in WORKER_ACTIONS)
            ctx.events.emit(
                "chaos_refused",
                f"chaos {names}: no worker processes under isolation=inline; these actions will be refused",
                "warn",
                actions=names,
            )
        self._log = (ctx.run_dir / CHAOS_LOG).open("a", encoding="utf-8", buffering=1)
        ctx.commands["chaos"] = self._command
        ctx.events.subscribe(self._on_event)

    def tick(self, t: float) -> None:
        for spec in self.specs:
            if spec.at is not None and spec.name not in self._fired and t >= spec.at:
                self._fired.add(spec.name)
                with contextlib.suppress(ValueError):  # refused: recorded already
                    self.trigger(spec.name, "schedule")

    def view(self) -> dict[str, Any]:
        with self._lock:
            active = sorted(self._active)
        return {
            "chaos_actions": [s.name for s in self.specs],
            "chaos": [
                ChaosView(
                    name=s.name,
                    action=s.action,
                    target=s.node or s.target or s.path or "",
                    duration_s=s.duration,
                    at_s=s.at,
                )
                for s in self.specs
            ],
            "extra": {"chaos_active": active},
        }

    @classmethod
    def replay(cls, frame: ReplayFrame) -> dict[str, Any]:
        """The planned actions (from the profile) and the windows open at ``frame`` (from the events)."""
        names = [str(s["name"]) for s in frame.profile.get("chaos") or [] if isinstance(s, dict) and "name" in s]
        active: set[str] = set()
        for e in frame.events:
            if isinstance(e, ChaosStart) and e.action:
                active.add(e.action)
            elif isinstance(e, ChaosEnd) and e.action:
                active.discard(e.action)
        return {"chaos_actions": names, "extra": {"chaos_active": sorted(active)}} if names or active else {}

    def stop(self) -> None:
        """Close every open window now (the stage is ending) and the log."""
        self._stopping.set()
        for th in list(self._threads):
            th.join(JOIN_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def nodes_stopping(self) -> bool:
        """The nodes are being stopped (the stage ends): node windows must not start them again."""
        return self.nodes is not None and self.nodes.stopping.is_set()

    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, STOP_EVENTS) or (isinstance(ev, Operator) and ev.action in STOP_COMMANDS):
            self._stopping.set()

    # ---------------------------------------------------------------- firing
    def _command(self, args: dict[str, Any]) -> str:
        name = args.get("action")
        if args.get("list"):  # say which actions there are (`soakwatch chaos RUN_DIR` without ACTION)
            with self._lock:
                active = ", ".join(sorted(self._active)) or "none"
            known = ", ".join(f"{s.name} ({s.action})" for s in self.specs) or "none"
            return f"chaos actions: {known}; running: {active}"
        if not isinstance(name, str) or not name:
            raise ValueError("chaos needs args {'action': NAME} (or {'list': true})")
        return self.trigger(name, "operator")

    def trigger(self, name: str, source: str) -> str:
        """Start the named action now; its one-line answer. ValueError (recorded) when refused."""
        spec = self._by_name.get(name)
        if spec is None:
            known = ", ".join(self._by_name) or "none"
            raise ValueError(f"unknown chaos action {name!r} (known: {known})")
        with self._lock:
            if self._stopping.is_set():
                self._refuse(spec, source, "the stage is ending")
            if name in self._active:
                self._refuse(spec, source, "already running")
            self._active.add(name)
        try:
            actions: dict[str, Begin] = {
                "kill_worker": self._kill_worker,
                "pause_worker": self._pause_worker,
                "write_file": self._write_file,
                "corrupt_file": self._corrupt_file,
                "kill_node": functools.partial(more.kill_node, self),
                "restart_node": functools.partial(more.restart_node, self),
                "pause_node": functools.partial(more.pause_node, self),
                "latency": functools.partial(more.inject, self),
                "errors": functools.partial(more.inject, self),
                "burn_cpu": functools.partial(more.helper, self),
                "hold_memory": functools.partial(more.helper, self),
            }
            begin = actions[spec.action]
            detail, window = begin(spec, source)
        except ValueError:
            self._release(name)
            raise
        self._record("start", spec, source, detail)
        self.ctx.events.emit(
            "chaos_start",
            f"chaos {name} ({spec.action}): {detail}",
            "warn",
            action=name,
            effect=spec.action,
            duration=spec.duration,
            source=source,
            detail=detail,
        )
        th = threading.Thread(target=self._window, args=(spec, window), name=f"chaos-{name}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(th)
        th.start()
        return f"chaos {name}: {detail}"

    def _window(self, spec: ChaosSpec, window: Callable[[], str]) -> None:
        ok = True
        try:
            outcome = window()
        except Exception as exc:  # the window must always end, and say how
            ok, outcome = False, f"{type(exc).__name__}: {exc}"
        self._record("end", spec, "", outcome)
        self.ctx.events.emit(
            "chaos_end",
            f"chaos {spec.name} ended: {outcome}",
            "info" if ok else "error",
            action=spec.name,
            effect=spec.action,
            ok=ok,
            detail=outcome,
        )
        self._release(spec.name)

    def _release(self, name: str) -> None:
        with self._lock:
            self._active.discard(name)
            for path in [p for p, holder in self._held.items() if holder == name]:
                del self._held[path]

    def _refuse(self, spec: ChaosSpec, source: str, reason: str) -> NoReturn:
        self._record("refused", spec, source, reason)
        self.ctx.events.emit(
            "chaos_refused",
            f"chaos {spec.name} refused: {reason}",
            "warn",
            action=spec.name,
            source=source,
            reason=reason,
        )
        raise ValueError(f"chaos {spec.name} refused: {reason}")

    def _record(self, what: str, spec: ChaosSpec, source: str, detail: str) -> None:
        if self._log is None:
            return
        src = f" ({source})" if source else ""
        line = f"{utc_now()}  t={self.ctx.events.elapsed():.3f}  {what:<7}  {spec.name}  {spec.action}  {detail}{src}"
        with contextlib.suppress(OSError, ValueError):
            self._log.write(line.replace("\n", " ") + "\n")

    # ---------------------------------------------------------------- actions
    # Each begins its effect (or refuses with ValueError, nothing done) and returns a
    # description plus the rest of the window, run in the window's thread.

    def _pick_worker(self, spec: ChaosSpec, source: str) -> tuple[str, int]:
        pids = self.ctx.target_pids()
        if spec.target is not None:
            pid = pids.get(spec.target)
            if pid is None:
                self._refuse(spec, source, f"no worker {spec.target!r} (running: {', '.join(pids) or 'none'})")
            return spec.target, pid
        if not pids:
            self._refuse(spec, source, "no target worker processes (isolation=inline or not started)")
        name = self._rng.choice(sorted(pids))
        return name, pids[name]

    def _kill_worker(self, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
        if self.ctx.workers is not None:  # workers the runner reaches itself (Ray actors)
            return more.kill_worker(self, spec, source, self.ctx.workers)
        worker, pid = self._pick_worker(spec, source)
        try:
            plat.signal_process(pid, plat.SIGKILL)
        except ProcessLookupError:
            self._refuse(spec, source, f"{worker} (pid {pid}) is already gone")

        def window() -> str:
            waited = 0.0
            while waited < RESTART_WAIT and not self._stopping.is_set():
                new = self.ctx.target_pids().get(worker)
                if new is not None and new != pid:
                    return f"{worker} replaced (pid {pid} → {new})"
                self._stopping.wait(RESTART_POLL)
                waited += RESTART_POLL
            return f"{worker} (pid {pid}) not replaced" + (" (stage ended)" if self._stopping.is_set() else "")

        return f"SIGKILL {worker} (pid {pid})", window

    def _pause_worker(self, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
        if self.ctx.workers is not None:
            return more.pause_worker(self, spec, source, self.ctx.workers)
        worker, pid = self._pick_worker(spec, source)
        try:
            plat.signal_process(pid, plat.SIGSTOP)
        except ProcessLookupError:
            self._refuse(spec, source, f"{worker} (pid {pid}) is already gone")

        def window() -> str:
            self._stopping.wait(spec.duration)
            try:
                plat.signal_process(pid, plat.SIGCONT)
            except ProcessLookupError:
                return f"{worker} (pid {pid}) was gone before SIGCONT (killed meanwhile)"
            return f"SIGCONT {worker} (pid {pid})"

        return f"SIGSTOP {worker} (pid {pid}) for {spec.duration:g}s", window

    def _path(self, spec: ChaosSpec, source: str) -> Path:
        assert spec.path is not None
        try:
            # again at the moment of acting: a symlink may have appeared since the stage started
            path = inside(self.ctx.root, spec.path, f"chaos {spec.name} path")
        except SandboxError as exc:
            self._refuse(spec, source, str(exc))
        with self._lock:
            holder = self._held.get(path)
            if holder is None and spec.action == "write_file":
                self._held[path] = spec.name
        if holder is not None:
            self._refuse(spec, source, f"{spec.path} is held by chaos {holder} until its window ends")
        return path

    def _write_file(self, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
        path = self._path(spec, source)
        root, field = self.ctx.root, f"chaos {spec.name} path"
        # every read and write through a descriptor of the root, never following a link (sandbox_fd)
        try:
            before = read_file(root, path, field)
            replace_file(root, path, json.dumps(spec.content).encode(), field, create_dirs=True)
        except SandboxError as exc:
            self._refuse(spec, source, str(exc))
        except OSError as exc:
            self._refuse(spec, source, f"cannot write {spec.path}: {exc.strerror}")

        def window() -> str:
            self._stopping.wait(spec.duration)
            try:  # checked again at the restore: a directory on the way may have become a link meanwhile
                if before is None:
                    unlink_file(root, path, field)
                    return f"removed {spec.path}"
                replace_file(root, path, before, field)
            except (SandboxError, OSError) as exc:
                return f"not restored, refused: {exc}"
            return f"restored {spec.path}"

        return f"wrote {spec.path} = {json.dumps(spec.content)} for {spec.duration:g}s", window

    def _corrupt_file(self, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
        path = self._path(spec, source)
        root, field = self.ctx.root, f"chaos {spec.name} path"
        try:
            data = read_file(root, path, field)
        except SandboxError as exc:
            self._refuse(spec, source, str(exc))
        except OSError as exc:
            self._refuse(spec, source, f"cannot read {spec.path}: {exc.strerror}")
        if not data:
            self._refuse(spec, source, f"{spec.path} is empty or missing")
        half = len(data) // 2
        try:
            replace_file(root, path, data[:half], field)
        except SandboxError as exc:
            self._refuse(spec, source, str(exc))
        except OSError as exc:
            self._refuse(spec, source, f"cannot write {spec.path}: {exc.strerror}")
        return f"cut {spec.path} from {len(data)} to {half} bytes", lambda: f"{spec.path} left cut"
