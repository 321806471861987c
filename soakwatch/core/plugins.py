"""How collectors and gates plug into a stage without touching the runner.

A :class:`Plugin` is prepared before the first call (where it may refuse the stage
with a UsageError: a path outside the sandbox, a bad rule), ticked on every stage
tick in the stage thread, told when the runner reaches a call-count barrier, asked
for its part of each snapshot, and stopped at the end. What it learns goes to the
recorder (named series) and the event log; the report is rebuilt from those.
Exceptions from ``tick``/``on_barrier``/``view`` are logged as events, never fatal.

A plugin also owns the way back: :meth:`Plugin.replay` rebuilds its part of the snapshot
at one timeline row of a recorded run (:class:`ReplayFrame`) from the columns it
published and the events it emitted, so the replay calls the plugin's code instead of
re-implementing it.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from soakwatch.core.event_types import Event
from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.core.rundir_reader import RunRecord
from soakwatch.core.verdict import Verdict

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile
    from soakwatch.core.inject import Injector

__all__ = ["Plugin", "ReplayFrame", "StageContext", "Verdict", "WorkerControl"]


@dataclass(frozen=True)
class ReplayFrame:
    """One moment of a recorded run, as the replay shows it: timeline row ``index``."""

    run: RunRecord
    index: int
    #: the events the stage had published by then, in order
    events: Sequence[Event]
    #: the last row: the run's final word (final events such as ``gate_final`` count)
    at_end: bool

    @property
    def profile(self) -> dict[str, Any]:
        return self.run.profile


class WorkerControl(Protocol):
    """Chaos on workers a runner reaches by its own means, not by a pid of this machine (the Ray
    executor's actors, wherever they run): ``kill_worker`` / ``pause_worker`` use it when set."""

    def worker_ids(self) -> dict[str, str]:
        """Each worker by name (``worker-N``) → who runs it now (changes when it is replaced)."""
        ...

    def kill_worker(self, name: str) -> str:
        """Kill the worker (its replacement is the runner's); what was done. ValueError: nothing done."""
        ...

    def pause_worker(self, name: str) -> str:
        """No new call starts in the worker until :meth:`resume_worker`; what was done. ValueError: nothing done."""
        ...

    def resume_worker(self, name: str, who: str) -> str:
        """End the pause of ``who`` (an id of :meth:`worker_ids`); what happened."""
        ...


@dataclass
class StageContext:
    """What a plugin may see and do."""

    profile: Profile
    root: Path
    run_dir: Path
    recorder: Recorder
    events: EventLog
    #: processes running the target, by name (workers under process isolation)
    target_pids: Callable[[], dict[str, int]]
    #: the monitor's own pid
    monitor_pid: int
    #: stop the stage because of a gate: (gate name, reason)
    abort: Callable[[str, str], None]
    #: calls completed so far
    calls: Callable[[], int]
    #: register an operator command (e.g. "truncate") reachable from keys, socket and ctl
    commands: dict[str, Callable[[dict[str, Any]], str]] = field(default_factory=dict)
    #: supervised node processes by node id (soakwatch.nodes.plugin sets it; empty without [[nodes]])
    node_pids: Callable[[], dict[str, int]] = field(default=dict)
    #: the driver's fault injector (chaos latency/errors windows); None when the runner has none
    inject: Injector | None = None
    #: stop the stage because the system under test failed (a node never got ready): (who, reason);
    #: the stage ends FAILED (exit 1), not ABORTED, and no auto-abort switch holds it back
    fail: Callable[[str, str], None] | None = None
    #: the runner's own way to kill and pause its workers (Ray actors); None: by pid (target_pids)
    workers: WorkerControl | None = None


class Plugin(ABC):  # noqa: B024 - every hook is optional
    """Base of collectors and the gate evaluator; every hook is optional."""

    name: str = "plugin"
    #: judges what the others published: stopped after them and after the last results are folded
    judges: bool = False

    def prepare(self, ctx: StageContext) -> None:
        """Before the stage starts. May raise UsageError to refuse the stage."""
        self.ctx = ctx

    def barrier_every(self) -> int | None:
        """Calls between barriers this plugin needs (e.g. snapshot_every), or None."""
        return None

    def act(self) -> None:
        """Change the sandbox before the stage (reset, backup): called only once every plugin prepared,
        so a stage refused by any check has changed nothing. Raise UsageError to refuse."""

    def start(self) -> None:
        """The stage is about to make its first call."""

    def tick(self, t: float) -> None:
        """Every stage tick, after the recorder folded the newest results."""

    def on_barrier(self, calls: int) -> None:
        """Every call before ``calls`` finished and none after it started (runner thread)."""

    def view(self) -> dict[str, Any]:
        """This plugin's fields of the next snapshot (keys of :class:`Snapshot`)."""
        return {}

    @classmethod
    def replay(cls, frame: ReplayFrame) -> dict[str, Any]:
        """This plugin's fields of the snapshot at ``frame`` of a recorded run (the recorded
        counterpart of :meth:`view`, from its timeline columns and events)."""
        return {}

    def stop(self) -> None:
        """The last call finished (or the stage was stopped)."""

    def verdict(self) -> Verdict:
        return Verdict()
