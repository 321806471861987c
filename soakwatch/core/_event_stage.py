"""Typed events of the stage, soakwatch's own problems, calls and workers (see :mod:`soakwatch.core.event_types`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from soakwatch.core._event_base import Event

__all__ = [
    "Abort",
    "AbortSuppressed",
    "AnswersCapped",
    "ArrivalsSkipped",
    "CallError",
    "CallEvent",
    "ClientAttached",
    "ClientDetached",
    "ControlError",
    "ErrorCounts",
    "FailuresCapped",
    "Hang",
    "Hangup",
    "HttpClient",
    "ListenerError",
    "Operator",
    "OrphansKilled",
    "PluginError",
    "ProblemEvent",
    "RunnerError",
    "Signal",
    "StageEnd",
    "StageEvent",
    "StageRefused",
    "StageStart",
    "StopGraceOver",
    "ViewError",
    "WorkerCrash",
    "WorkerError",
    "WorkerEvent",
    "WorkerRestart",
]


# ---------------------------------------------------------------- the stage and the operator
@dataclass(frozen=True, kw_only=True)
class StageEvent(Event):
    """The stage's own life: start, end, signals, operator commands, aborts."""


@dataclass(frozen=True, kw_only=True)
class StageStart(StageEvent):
    KIND = "stage_start"
    target: str | None = None
    calls: int | None = None
    duration: float | None = None
    concurrency: int | None = None
    rate: float | None = None
    isolation: str | None = None
    run_dir: str | None = None
    pid: int | None = None
    workers: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StageEnd(StageEvent):
    KIND = "stage_end"
    state: str = ""
    exit_code: int | None = None
    reason: str | None = None
    failed_reasons: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    error: str | None = None
    verdict: str | None = None
    calls: int | None = None
    #: open model: arrivals that were due and never sent
    missed_arrivals: int | None = None
    #: a stage stopped gracefully: calls in flight at the stop that finished within its grace,
    #: and those cancelled when the grace ran out (or a second signal came); None: not stopped
    stop_finished: int | None = None
    stop_cancelled: int | None = None


@dataclass(frozen=True, kw_only=True)
class StageRefused(StageEvent):
    KIND = "stage_refused"


@dataclass(frozen=True, kw_only=True)
class StopGraceOver(StageEvent):
    """A graceful stop's grace (``stop_grace`` seconds) ran out with ``in_flight`` calls still running:
    they are cancelled (counted in ``stage_end.stop_cancelled``, not results, not errors)."""

    KIND = "stop_grace_over"
    in_flight: int | None = None
    grace: float | None = None


@dataclass(frozen=True, kw_only=True)
class Signal(StageEvent):
    KIND = "signal"
    signal: str = ""


@dataclass(frozen=True, kw_only=True)
class Hangup(StageEvent):
    KIND = "hangup"
    log: str | None = None


@dataclass(frozen=True, kw_only=True)
class ClientAttached(StageEvent):
    """A view or a ctl that named itself in its hello connected to the control socket."""

    KIND = "client_attached"
    client: str = ""


@dataclass(frozen=True, kw_only=True)
class ClientDetached(StageEvent):
    """A named client left the control socket (closed, or its terminal was gone)."""

    KIND = "client_detached"
    client: str = ""


@dataclass(frozen=True, kw_only=True)
class Operator(StageEvent):
    KIND = "operator"
    action: str = ""
    source: str = ""
    args: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Abort(StageEvent):
    KIND = "abort"
    gate: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AbortSuppressed(StageEvent):
    KIND = "abort_suppressed"
    gate: str | None = None


# ---------------------------------------------------------------- soakwatch's own problems
@dataclass(frozen=True, kw_only=True)
class ProblemEvent(Event):
    """Something in soakwatch itself failed (a plugin, the control socket, a view, a listener)."""


@dataclass(frozen=True, kw_only=True)
class PluginError(ProblemEvent):
    KIND = "plugin_error"
    plugin: str | None = None


@dataclass(frozen=True, kw_only=True)
class ControlError(ProblemEvent):
    KIND = "control_error"


@dataclass(frozen=True, kw_only=True)
class ViewError(ProblemEvent):
    KIND = "view_error"


@dataclass(frozen=True, kw_only=True)
class ListenerError(ProblemEvent):
    KIND = "listener_error"


@dataclass(frozen=True, kw_only=True)
class RunnerError(ProblemEvent):
    KIND = "runner_error"


# ---------------------------------------------------------------- calls and workers
@dataclass(frozen=True, kw_only=True)
class CallEvent(Event):
    """What the calls did."""


@dataclass(frozen=True, kw_only=True)
class CallError(CallEvent):
    KIND = "error"
    error_kind: str = ""
    call: int | None = None
    timeout: bool = False


@dataclass(frozen=True, kw_only=True)
class ErrorCounts(CallEvent):
    KIND = "errors"
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class HttpClient(CallEvent):
    KIND = "http_client"
    client: str | None = None
    http2: bool | None = None
    method: str | None = None
    url: str | None = None
    timeout: float | None = None
    request_id_prefix: str | None = None
    #: processes that send the requests (``[http] load_processes``)
    load_processes: int | None = None


@dataclass(frozen=True, kw_only=True)
class ArrivalsSkipped(CallEvent):
    """Under a rate, the runner was suspended for ``seconds``: ``arrivals`` due meanwhile were missed."""

    KIND = "arrivals_skipped"
    arrivals: int | None = None
    seconds: float | None = None


@dataclass(frozen=True, kw_only=True)
class FailuresCapped(CallEvent):
    """failures.jsonl reached its size cap after ``lines`` lines: later failures are counted only."""

    KIND = "failures_capped"
    lines: int | None = None


@dataclass(frozen=True, kw_only=True)
class AnswersCapped(CallEvent):
    """answers.jsonl reached its size cap: ``kept`` answers were written."""

    KIND = "answers_capped"
    kept: int | None = None


@dataclass(frozen=True, kw_only=True)
class WorkerEvent(Event):
    """A worker process running the target (process isolation, or a Ray actor)."""

    slot: int | None = None
    #: the Ray node of the actor (its address and node id), under ``executor = "ray"``
    node: str | None = None


@dataclass(frozen=True, kw_only=True)
class Hang(WorkerEvent):
    KIND = "hang"
    call: int | None = None
    stacks: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrphansKilled(WorkerEvent):
    """Processes the target started and left running once its worker ended, killed by soakwatch."""

    KIND = "orphans_killed"
    count: int | None = None
    pids: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class WorkerCrash(WorkerEvent):
    KIND = "worker_crash"
    exitcode: int | None = None
    log: str | None = None


@dataclass(frozen=True, kw_only=True)
class WorkerError(WorkerEvent):
    KIND = "worker_error"


@dataclass(frozen=True, kw_only=True)
class WorkerRestart(WorkerEvent):
    KIND = "worker_restart"
    pid: int | None = None
    restarts: int | None = None
