"""The composition root: one :class:`Stage` wires profile, target, runner, recorder,
plugins (collectors, gates, chaos), control and views together, runs the tick loop
and writes the reports.

Threads: the runner's slots call the target (or drive worker processes); the stage
thread ticks every ``profile.tick`` seconds (fold results, tick plugins, publish a
snapshot); commands arrive from signals, the control socket or code through
:meth:`Stage.command`, all recorded as events.
"""

from __future__ import annotations

import os
import random
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soakwatch._stage_control import StageControl
from soakwatch.config._stage_paths import resolve_cases, resolve_root
from soakwatch.config.constants import EXIT_ABORTED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from soakwatch.config.errors import UsageError
from soakwatch.config.profile import Profile
from soakwatch.core._stage_end import end_state, own_verdict
from soakwatch.core._stage_env import export_env
from soakwatch.core.event_types import RunnerError
from soakwatch.core.events import Event, EventLog
from soakwatch.core.plugins import Plugin, StageContext
from soakwatch.core.recorder import Recorder
from soakwatch.core.rundir import create_run_dir, update_run_config, write_run_config
from soakwatch.core.sandbox import check_broad_root
from soakwatch.core.snapshot import (
    Snapshot,
    StageState,
)
from soakwatch.core.snapshot_builder import SnapshotBuilder
from soakwatch.core.verdict import Verdict, combine, verdict_line
from soakwatch.targets._stage_plan import stage_plan
from soakwatch.targets.runner import Runner
from soakwatch.targets.spec import TargetSpec, load_cases, parse_target

if TYPE_CHECKING:
    from soakwatch.control.server import ControlServer

__all__ = ["EXIT_ABORTED", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "Stage"]


Subscriber = Callable[[Snapshot], None]

#: the tick loop waking this late (seconds, and ticks) means the monitor was suspended
SUSPENDED_MIN = 2.0
SUSPENDED_TICKS = 4
#: once the calls in flight are cancelled, the runner gets this long to hand over what it has
STOP_JOIN = 5.0


class Stage(StageControl):
    """One stage of a stress, pressure or soak test."""

    def __init__(self, profile: Profile, *, out_dir: Path | None = None, cwd: Path | None = None) -> None:
        if profile.seed is None:  # every run has a seed, recorded in run_config.json, so it can be replayed
            profile = profile.model_copy(update={"seed": secrets.randbits(32)})
        self.profile = profile
        self.cwd = (cwd or Path.cwd()).resolve()
        self.root = resolve_root(self.cwd, profile.root)
        if profile.target is None and not profile.nodes:
            raise UsageError(
                "no target: give --target module:function or set 'target' in the profile", where="--target"
            )
        # a stage with [[nodes]] may only watch them: no target, no calls
        self.spec: TargetSpec | None = parse_target(profile.target) if profile.target else None
        self.target_label = self.spec.spec if self.spec else "nodes " + ", ".join(n.id for n in profile.nodes)
        self.cases_path = resolve_cases(profile.cases, self.cwd, self.root)
        #: messages of runner_error events: soakwatch could not drive the target as planned
        self.runner_errors: list[str] = []
        self.cases = load_cases(self.cases_path) if self.cases_path else None
        if self.cases and profile.case_order == "shuffle":
            random.Random(f"{profile.seed}:cases").shuffle(self.cases)
        self.out_dir = out_dir or self.cwd / ".soakwatch" / "runs"
        self.subscribers: list[Subscriber] = []
        self.state: StageState = "STARTING"
        self.auto_abort = True
        self.exit_code: int | None = None
        #: the verdict line, once the stage has ended
        self.verdict: str | None = None
        self.abort_reason: str | None = None
        self._abort_kind: str | None = None  # "operator" | "gate" | "signal"
        self._snapshots = SnapshotBuilder()
        self._wake = threading.Event()
        self._kill_now = False
        self._signals = 0
        self.plugins: list[Plugin] = []
        self.run_dir: Path | None = None
        #: the first error writing the run directory (disk full): the stage stops, ERROR, exit 4
        self.write_error: OSError | None = None
        self._control: ControlServer | None = None

    # ---------------------------------------------------------------- setup
    def preflight(self, import_target: bool = True) -> None:
        """Every check that needs no run directory, shared by ``run`` (in :meth:`prepare`, before
        anything is created) and ``validate``: a root that file actions may use; the target
        resolves to something callable (``run`` imports it here for process isolation, so a
        target that is not there is exit 2 before anything changes; an inline target is imported
        by its runner in :meth:`prepare`, before the sandbox is changed)."""
        check_broad_root(self.profile, self.root)
        if import_target and self.spec is not None and self.spec.kind == "python":
            from soakwatch.targets.spec import resolve_callable

            fresh = self.spec.module not in sys.modules
            resolve_callable(self.spec, self.root)
            if fresh:  # checked, not kept: the workers import their own copy (and an inline runner a fresh one)
                sys.modules.pop(self.spec.module, None)

    def prepare(self) -> Path:
        """Create the run dir, load plugins and the target. Raises UsageError on bad input.

        Nothing in the sandbox changes until every check has passed: plugins check in
        ``prepare`` and act (reset, backup) in ``act``, called once all of them prepared."""
        # an inline target is imported by its runner below (what it imports is recorded from that import)
        inline = self.profile.isolation == "inline"
        self.preflight(import_target=not inline)
        self.run_dir = create_run_dir(self.out_dir, self.profile.name, share=self.profile.share_run_dir)
        self.events = EventLog(self.run_dir / "events.jsonl")
        self.events.subscribe(self._note_runner_error)
        self.recorder = Recorder(self.run_dir, self.events, open_model=self.profile.open_model)
        self.plugins = _build_plugins(self.profile)
        self.runner = self._build_runner()
        self.ctx = StageContext(
            self.profile,
            self.root,
            self.run_dir,
            self.recorder,
            self.events,
            self.runner.pids,
            os.getpid(),
            self._gate_abort,
            self._calls_done,
            inject=self.runner.inject,
            fail=self._sut_failed,
            workers=self.runner.worker_control(),
        )
        write_run_config(self.run_dir, self.profile, self.root, self.cases_path)
        self._export_env()
        self._prepare_plugins(inline)
        return self.run_dir

    def _build_runner(self) -> Runner:
        """The runner of the plan: the target's, or one that only watches the nodes."""
        barrier = min((b for p in self.plugins if (b := p.barrier_every())), default=None)
        plan = stage_plan(self.profile, barrier)
        from soakwatch.targets.build import build_runner

        if self.spec is None:
            from soakwatch.nodes.plugin import WatchRunner

            return WatchRunner(plan, self.recorder)
        hook = self._on_barrier if barrier else None
        return build_runner(self.profile, self.spec, plan, self.recorder, self.root, self.cases, hook)

    def _export_env(self) -> None:
        """The environment the target and its workers inherit (root, run dir, seed, [record] sampling)."""
        assert self.run_dir is not None
        answers = export_env(self.profile, self.root, self.run_dir)
        if answers is not None:
            self.recorder.callvalues.answer_log = answers

    def _prepare_plugins(self, inline: bool) -> None:
        """Plugins check, then act; the runner prepares (imports the target). A refusal closes the run dir."""
        assert self.run_dir is not None
        try:
            for plugin in self.plugins:
                plugin.prepare(self.ctx)
            if not inline:
                self._act()
            self.runner.prepare()
            if inline:  # the inline runner's import is the last check: nothing changed before it passed
                self._act()
            update_run_config(self.run_dir, target_packages=self.runner.imported_packages())
        except UsageError:
            self.events.emit("stage_refused", "the stage did not start", "error")
            self.recorder.close()
            self.events.close()
            raise

    def _act(self) -> None:
        for plugin in self.plugins:
            plugin.act()

    def _calls_done(self) -> int:
        return self.recorder.calls + self.recorder.pending_calls()

    def _on_barrier(self, calls: int) -> None:
        for p in self.plugins:
            try:
                p.on_barrier(calls)
            except Exception as exc:
                self.events.emit("plugin_error", f"{p.name}.on_barrier: {type(exc).__name__}: {exc}", "error")

    # ---------------------------------------------------------------- run
    def run(self) -> int:
        """Run the prepared stage to its end; returns the exit code."""
        assert self.run_dir is not None, "prepare() first"
        p = self.profile
        self.events.restart_clock()
        self.events.emit(
            "stage_start",
            f"stage {p.name} started: {self.target_label}",
            "info",
            target=self.target_label,
            calls=p.calls,
            duration=p.duration,
            concurrency=p.concurrency,
            rate=p.rate,
            isolation=p.isolation,
            run_dir=str(self.run_dir),
            pid=os.getpid(),
            workers=self.runner.pids(),
        )
        for plugin in self.plugins:
            self.guard(plugin, "start", plugin.start)
        self._start_control()
        self.state = "RUNNING"
        runner_thread = threading.Thread(target=self.runner.run, name="runner", daemon=True)
        runner_thread.start()
        next_tick = time.monotonic() + p.tick
        while runner_thread.is_alive() and not (self._kill_now or self._gave_up):
            self._wake.wait(max(0.0, min(next_tick - time.monotonic(), self._grace_left())))
            self._wake.clear()
            self._check_grace()
            self._note_suspension(time.monotonic() - next_tick)
            if time.monotonic() >= next_tick:
                next_tick += p.tick
                if next_tick < time.monotonic():
                    next_tick = time.monotonic() + p.tick
                self._tick()
                self._check_writes()
        runner_thread.join(STOP_JOIN if (self._kill_now or self._gave_up) else None)
        return self._finish()

    def guard(self, plugin: Plugin, hook: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            self.events.emit(
                "plugin_error", f"{plugin.name}.{hook}: {type(exc).__name__}: {exc}", "error", plugin=plugin.name
            )
            return None

    def _tick(self) -> None:
        self.recorder.tick_begin(self.runner.in_flight, self.runner.planned_rate)
        if (level := self.runner.planned_concurrency) is not None:  # a concurrency [[shape]]: its level now
            self.recorder.set("planned_concurrency", level)
        t = self.recorder.last_tick_t
        for plugin in self.plugins:
            self.guard(plugin, "tick", plugin.tick, t)
        try:
            self.recorder.tick_end()  # the timeline row holds what the plugins published this tick
        except OSError as exc:  # disk full or the run dir gone read-only: stop gracefully, exit 4
            self.write_error = self.write_error or exc
        self._publish()

    def _note_suspension(self, late: float) -> None:
        """An event when the tick loop woke far too late: the monitor was suspended (SIGSTOP, Ctrl-Z)
        or starved of CPU. The calls made nothing in that time; stall gates count the gap too."""
        if late >= max(SUSPENDED_MIN, SUSPENDED_TICKS * self.profile.tick):
            self.events.emit(
                "suspended",
                f"the monitor did not run for {late:.1f}s (suspended or starved); no calls were made meanwhile",
                "warn",
                seconds=round(late, 3),
            )

    def _check_writes(self) -> None:
        """Stop gracefully (ERROR, exit 4) once the run directory cannot be written."""
        exc = self.write_error or self.events.write_error
        if exc is None or self._abort_kind is not None:
            return
        self.write_error = exc
        what = f"cannot write the run directory: {exc.strerror or exc} ({exc.filename or self.run_dir})"
        self.events.emit("write_error", f"{what}; stopping the stage", "error", errno=exc.errno)
        self._stop("error", what)

    def _finish(self) -> int:
        verdict = self._final_verdict()
        finished, cancelled, stop_caveats = self._stop_counts()
        verdict = combine([verdict, Verdict(caveats=tuple(stop_caveats + self.runner.caveats()))])
        self.state, code = end_state(verdict, self._abort_kind, self._kill_now)
        self.exit_code = code
        self.verdict = verdict_line(self.state, verdict.caveats, verdict.error)
        self.events.emit(
            "stage_end",
            f"stage {self.profile.name} ended: {self.state}",
            "info",
            state=self.state,
            exit_code=code,
            reason=self.abort_reason,
            failed_reasons=list(verdict.reasons),
            caveats=list(verdict.caveats),
            error=verdict.error,
            verdict=self.verdict,
            calls=self.recorder.calls,
            missed_arrivals=self.recorder.missed,
            stop_finished=finished,
            stop_cancelled=cancelled,
        )
        self.events.flush()
        paths = self._write_reports()
        self._publish(reports=[str(x) for x in paths])
        self._close_control()  # after subscribers had a moment to read the final snapshot
        self.events.close()
        return code

    def _final_verdict(self) -> Verdict:
        """The last tick, the plugins stopped (the judges last) and every verdict combined."""
        if not self._kill_now:
            self._tick()  # the calls of the last partial tick are judged too
        for plugin in self.plugins:
            if not plugin.judges:
                self.guard(plugin, "stop", plugin.stop)
        try:
            self.recorder.tick(0, self.runner.planned_rate)  # the last results folded in before anything is judged
        except OSError as exc:  # disk full: judged all the same, from what is in memory
            self.write_error = self.write_error or exc
        for plugin in self.plugins:
            if plugin.judges:  # the gates' last evaluation sees every result and the collectors' last word
                self.guard(plugin, "stop", plugin.stop)
        return combine(
            [self._own_verdict()]
            + [v for v in [self.runner.verdict()] if v is not None]
            + [v for plugin in self.plugins if (v := self.guard(plugin, "verdict", plugin.verdict)) is not None]
        )

    def _write_reports(self) -> list[Path]:
        """Close the recorder and write the reports: what fits is written (``soakwatch report`` rebuilds
        the rest once there is space again)."""
        paths: list[Path] = []
        try:
            self.recorder.close()
            from soakwatch.core.reports import write_reports
            from soakwatch.sections import REPORT_SECTIONS
            from soakwatch.views.html import try_write_run_report

            paths = write_reports(self.run_dir, REPORT_SECTIONS) if self.run_dir else []
            paths += try_write_run_report(self.run_dir, REPORT_SECTIONS) if self.run_dir else []
        except OSError as exc:
            self.write_error = self.write_error or exc
        return paths

    def _note_runner_error(self, ev: Event) -> None:
        if isinstance(ev, RunnerError):
            self.runner_errors.append(ev.message)

    def _own_verdict(self) -> Verdict:
        """The stage's own judgement: a stage with a target that ran none of its calls is an ERROR."""
        write_error = self.write_error or self.events.write_error
        return own_verdict(self.profile, self.recorder, self.runner_errors, write_error, self._abort_kind is not None)

    # ---------------------------------------------------------------- snapshots
    def snapshot(self, reports: list[str] | None = None) -> Snapshot:
        """The live state now, as an immutable snapshot."""
        return self._snapshots.build(self, reports)

    def _publish(self, reports: list[str] | None = None) -> None:
        if not self.subscribers:
            return
        snap = self.snapshot(reports)
        for sub in list(self.subscribers):
            try:
                sub(snap)
            except Exception as exc:
                self.events.emit("view_error", f"{type(exc).__name__}: {exc}", "error")


def _build_plugins(profile: Profile) -> list[Plugin]:
    from soakwatch.collectors import build_collectors
    from soakwatch.gates import build_gates

    plugins = list(build_collectors(profile))
    nodes = None
    if profile.nodes:  # first: the nodes run (and are ready) before the collectors start
        from soakwatch.nodes.plugin import NodesPlugin

        nodes = NodesPlugin(profile.nodes)
        plugins.insert(0, nodes)
    if profile.isolation == "process" and profile.target and parse_target(profile.target).kind == "python":
        from soakwatch.targets.output import OutputTail

        plugins.append(OutputTail())
    if profile.chaos:
        from soakwatch.chaos.plugin import ChaosPlugin

        plugins.append(ChaosPlugin(profile.chaos, nodes=nodes))
    gate = build_gates(profile)
    if gate is not None:
        plugins.append(gate)
    return plugins
