"""The typed events of a stage: one frozen record per ``kind`` written to ``events.jsonl``.

Every record carries the envelope (``seq``, ``t``, ``ts``, ``level``, ``message`` — ``msg``
on disk) and the fields of its kind, under the same names as in the JSON line (the one
exception: ``for`` is ``for_`` in Python). Fields a record does not name ride along in
``extra`` and are written back unchanged, so a line round-trips. The ``kind`` strings and
field names are a public contract (other tools read events.jsonl): extend, never rename.

Hierarchy::

    Event                         (base; .kind, .data for code that predates the records)
    ├── UnknownEvent              a kind this version does not know (kept, never an error)
    ├── StageEvent                stage_start, stage_end, stage_refused, signal, hangup,
    │                             operator, abort, abort_suppressed
    ├── ProblemEvent              plugin_error, control_error, view_error, listener_error,
    │                             runner_error
    ├── CallEvent                 error (one call), errors (counts of one tick), http_client,
    │                             answers_capped
    ├── WorkerEvent               hang, worker_crash, worker_error, worker_restart
    ├── FileEvent                 reset, backup, truncate, truncate_refused, size_warning,
    │                             snapshot, corrupt_read, integrity, log_match, log_match_summary
    ├── CollectorEvent            collector_error, collector_recovered, collector_health,
    │                             memory_warmup
    ├── GateEvent                 gate_rules, gate (a transition), gate_final, gate_recovery,
    │                             call_check (a per-call check that failed)
    ├── ChaosEvent                chaos_start, chaos_end, chaos_refused
    └── NodeEvent                 node_start, node_ready, node_not_ready, node_exit,
                                  node_restart, node_gave_up, nodes_failed

:mod:`soakwatch.core.event_codec` turns records into JSON lines and back (tolerantly).
"""

from __future__ import annotations

from soakwatch.core._event_base import ENVELOPE, EVENT_TYPES, Event, Level, UnknownEvent
from soakwatch.core._event_plugins import (
    Backup,
    CallCheck,
    ChaosEnd,
    ChaosEvent,
    ChaosRefused,
    ChaosStart,
    CollectorError,
    CollectorEvent,
    CollectorHealth,
    CollectorRecovered,
    CorruptRead,
    FileEvent,
    GateEvent,
    GateFinal,
    GateRecovery,
    GateRules,
    GateTransition,
    GpuInfo,
    Integrity,
    LogMatch,
    LogMatchSummary,
    MemoryWarmup,
    NodeEvent,
    NodeExit,
    NodeGaveUp,
    NodeNotReady,
    NodeReady,
    NodeRestart,
    NodesFailed,
    NodeStart,
    Reset,
    SizeWarning,
    SnapshotTaken,
    Truncate,
    TruncateRefused,
)
from soakwatch.core._event_stage import (
    Abort,
    AbortSuppressed,
    AnswersCapped,
    ArrivalsSkipped,
    CallError,
    CallEvent,
    ClientAttached,
    ClientDetached,
    ControlError,
    ErrorCounts,
    FailuresCapped,
    Hang,
    Hangup,
    HttpClient,
    ListenerError,
    Operator,
    PluginError,
    ProblemEvent,
    RunnerError,
    Signal,
    StageEnd,
    StageEvent,
    StageRefused,
    StageStart,
    ViewError,
    WorkerCrash,
    WorkerError,
    WorkerEvent,
    WorkerRestart,
)

__all__ = [
    "ENVELOPE",
    "EVENT_TYPES",
    "Abort",
    "AbortSuppressed",
    "AnswersCapped",
    "ArrivalsSkipped",
    "Backup",
    "CallCheck",
    "CallError",
    "CallEvent",
    "ChaosEnd",
    "ChaosEvent",
    "ChaosRefused",
    "ChaosStart",
    "ClientAttached",
    "ClientDetached",
    "CollectorError",
    "CollectorEvent",
    "CollectorHealth",
    "CollectorRecovered",
    "ControlError",
    "CorruptRead",
    "ErrorCounts",
    "Event",
    "FailuresCapped",
    "FileEvent",
    "GateEvent",
    "GateFinal",
    "GateRecovery",
    "GateRules",
    "GateTransition",
    "GpuInfo",
    "Hang",
    "Hangup",
    "HttpClient",
    "Integrity",
    "Level",
    "ListenerError",
    "LogMatch",
    "LogMatchSummary",
    "MemoryWarmup",
    "NodeEvent",
    "NodeExit",
    "NodeGaveUp",
    "NodeNotReady",
    "NodeReady",
    "NodeRestart",
    "NodeStart",
    "NodesFailed",
    "Operator",
    "PluginError",
    "ProblemEvent",
    "Reset",
    "RunnerError",
    "Signal",
    "SizeWarning",
    "SnapshotTaken",
    "StageEnd",
    "StageEvent",
    "StageRefused",
    "StageStart",
    "Truncate",
    "TruncateRefused",
    "UnknownEvent",
    "ViewError",
    "WorkerCrash",
    "WorkerError",
    "WorkerEvent",
    "WorkerRestart",
]
