"""How collectors and gates plug into a stage without touching the runner.

A :class:`Plugin` is prepared before the first call (where it may refuse the stage
with a UsageError: a path outside the sandbox, a bad rule), ticked on every stage
tick in the stage thread, told when the runner reaches a call-count barrier, asked
for its part of each snapshot, and stopped at the end. What it learns goes to the
recorder (named series) and the event log; the report is rebuilt from those.
Exceptions from ``tick``/``on_barrier``/``view`` are logged as events, never fatal.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.core.verdict import Verdict

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile
    from soakwatch.core.inject import Injector

__all__ = ["Plugin", "StageContext", "Verdict"]


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


class Plugin(ABC):  # noqa: B024 - every hook is optional
    """Base of collectors and the gate evaluator; every hook is optional."""

    name: str = "plugin"

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

    def stop(self) -> None:
        """The last call finished (or the stage was stopped)."""

    def verdict(self) -> Verdict:
        return Verdict()
