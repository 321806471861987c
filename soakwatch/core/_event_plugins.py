"""Typed events of watched files, collectors, gates, chaos and nodes (see :mod:`soakwatch.core.event_types`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from soakwatch.core._event_base import Event

__all__ = [
    "Backup",
    "CallCheck",
    "ChaosEnd",
    "ChaosEvent",
    "ChaosRefused",
    "ChaosStart",
    "CollectorError",
    "CollectorEvent",
    "CollectorRecovered",
    "CorruptRead",
    "FileEvent",
    "GateEvent",
    "GateFinal",
    "GateRecovery",
    "GateRules",
    "GateTransition",
    "GpuInfo",
    "Integrity",
    "LogMatch",
    "LogMatchSummary",
    "NodeEvent",
    "NodeExit",
    "NodeGaveUp",
    "NodeNotReady",
    "NodeReady",
    "NodeRestart",
    "NodeStart",
    "NodesFailed",
    "Reset",
    "SizeWarning",
    "SnapshotTaken",
    "Truncate",
    "TruncateRefused",
]


# ---------------------------------------------------------------- watched files
@dataclass(frozen=True, kw_only=True)
class FileEvent(Event):
    """Watched files: actions on them, snapshots, integrity, corrupt reads."""


@dataclass(frozen=True, kw_only=True)
class Reset(FileEvent):
    KIND = "reset"
    file: str = ""
    existed: bool | None = None
    bytes: int | None = None


@dataclass(frozen=True, kw_only=True)
class Backup(FileEvent):
    KIND = "backup"
    path: str = ""
    files: int | None = None
    bytes: int | None = None
    skipped: int | None = None
    archive: str | None = None


@dataclass(frozen=True, kw_only=True)
class Truncate(FileEvent):
    KIND = "truncate"
    file: str = ""
    bytes: int | None = None
    lines: int | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class TruncateRefused(FileEvent):
    KIND = "truncate_refused"
    file: str | None = None


@dataclass(frozen=True, kw_only=True)
class SizeWarning(FileEvent):
    KIND = "size_warning"
    file: str = ""
    size_kb: float | None = None
    threshold_kb: float | None = None


@dataclass(frozen=True, kw_only=True)
class SnapshotTaken(FileEvent):
    """Line counts of the watched files at a call-count snapshot (``files``: path → lines, delta...)."""

    KIND = "snapshot"
    label: str = ""
    previous: str | None = None
    calls: int = 0
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CorruptRead(FileEvent):
    KIND = "corrupt_read"
    file: str = ""
    error: str | None = None
    size: int | None = None
    count: int | None = None
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class Integrity(FileEvent):
    """A file's change against its baseline (``change``), or the baseline / final check of all."""

    KIND = "integrity"
    change: str | None = None
    file: str | None = None
    label: str | None = None
    sha256_before: str | None = None
    sha256_after: str | None = None
    files: int | None = None
    patterns: list[str] | None = None
    changed: list[str] | None = None
    states: dict[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class LogMatch(FileEvent):
    """A line of a node log, the target's output or a watched file matched a pattern (its
    level is the event's ``level``); ``suppressed`` earlier matches were only counted."""

    KIND = "log_match"
    source: str | None = None
    file: str | None = None
    pattern: str | None = None
    line: str = ""
    suppressed: int | None = None


@dataclass(frozen=True, kw_only=True)
class LogMatchSummary(FileEvent):
    KIND = "log_match_summary"
    counts: dict[str, int] = field(default_factory=dict)
    suppressed: int | None = None


# ---------------------------------------------------------------- collectors
@dataclass(frozen=True, kw_only=True)
class CollectorEvent(Event):
    """A collector's source failing and recovering."""

    collector: str | None = None
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class CollectorError(CollectorEvent):
    KIND = "collector_error"
    reason: str | None = None
    count: int | None = None


@dataclass(frozen=True, kw_only=True)
class CollectorRecovered(CollectorEvent):
    KIND = "collector_recovered"
    failures: int | None = None


@dataclass(frozen=True, kw_only=True)
class CollectorHealth(CollectorEvent):
    """At the end: every source of one collector, ok or failing, with its counts and last error."""

    KIND = "collector_health"
    sources: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class MemoryWarmup(CollectorEvent):
    """The processes collector's warm-up is over: RSS growth and slope count from here."""

    KIND = "memory_warmup"
    warmup_s: float | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class GpuInfo(CollectorEvent):
    """What the GPU collector found when the stage started: the devices, or why none ("no GPU: ...")."""

    KIND = "gpu"
    devices: list[str] | None = None
    reason: str | None = None


# ---------------------------------------------------------------- gates
@dataclass(frozen=True, kw_only=True)
class GateEvent(Event):
    """Gates: the rules, their transitions, their final status, recovery after chaos."""


@dataclass(frozen=True, kw_only=True)
class GateRules(GateEvent):
    """Every gate as declared (dicts with the keys of :class:`GateFinal`'s description)."""

    KIND = "gate_rules"
    gates: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class GateTransition(GateEvent):
    KIND = "gate"
    gate: str = ""
    status: str = ""
    previous: str | None = None
    observed: float | None = None
    margin: float | None = None
    condition: str | None = None
    detail: str | None = None


@dataclass(frozen=True, kw_only=True)
class GateFinal(GateEvent):
    KIND = "gate_final"
    gate: str = ""
    metric: str | None = None
    condition: str | None = None
    severity: str | None = None
    abort: bool | None = None
    window: str | None = None
    delay: float | None = None
    min_samples: int | None = None
    for_: int | None = field(default=None, metadata={"json": "for"})
    exempt_during_chaos: float | None = None
    status: str = ""
    observed: float | None = None
    detail: str | None = None
    observed_end: float | None = None
    samples: int | None = None
    changed_at: float | None = None
    breaches: int | None = None
    exempted: list[Any] = field(default_factory=list)
    insufficient_policy: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallCheck(GateEvent):
    """A per-call check on a recorded value failed for one call (``request_id`` of an HTTP call)."""

    KIND = "call_check"
    check: str | None = None
    record: str | None = None
    call: int | None = None
    request_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class GateRecovery(GateEvent):
    KIND = "gate_recovery"
    action: str = ""
    chaos_start: float | None = None
    chaos_end: float | None = None
    recovered: bool = False
    seconds: float | None = None


# ---------------------------------------------------------------- chaos
@dataclass(frozen=True, kw_only=True)
class ChaosEvent(Event):
    """Chaos actions: a window opening, closing, or refused."""

    action: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChaosStart(ChaosEvent):
    KIND = "chaos_start"
    effect: str | None = None
    duration: float | None = None
    source: str | None = None
    detail: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChaosEnd(ChaosEvent):
    KIND = "chaos_end"
    effect: str | None = None
    ok: bool | None = None
    detail: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChaosRefused(ChaosEvent):
    KIND = "chaos_refused"
    source: str | None = None
    reason: str | None = None
    actions: list[str] | None = None


# ---------------------------------------------------------------- supervised nodes
@dataclass(frozen=True, kw_only=True)
class NodeEvent(Event):
    """A supervised node process (``[[nodes]]``)."""

    node: str | None = None


@dataclass(frozen=True, kw_only=True)
class NodeStart(NodeEvent):
    KIND = "node_start"
    pid: int | None = None
    start: int | None = None
    reason: str | None = None
    argv: list[str] | None = None


@dataclass(frozen=True, kw_only=True)
class NodeReady(NodeEvent):
    KIND = "node_ready"
    pid: int | None = None


@dataclass(frozen=True, kw_only=True)
class NodeNotReady(NodeEvent):
    KIND = "node_not_ready"
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class NodeExit(NodeEvent):
    KIND = "node_exit"
    pid: int | None = None
    code: int | None = None
    signal: str | None = None
    expected: bool | None = None
    reason: str | None = None
    uptime: float | None = None


@dataclass(frozen=True, kw_only=True)
class NodeRestart(NodeEvent):
    KIND = "node_restart"
    pid: int | None = None
    reason: str | None = None
    restarts: int | None = None
    delay: float | None = None


@dataclass(frozen=True, kw_only=True)
class NodeGaveUp(NodeEvent):
    KIND = "node_gave_up"
    restarts: int | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class NodesFailed(NodeEvent):
    KIND = "nodes_failed"
    reason: str | None = None
