"""The records a recorder takes in and keeps: call batches, failed calls, error kinds, core columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from soakwatch._calldata import CallValues
from soakwatch.config.safetext import safe_str

__all__ = ["CORE_COLUMNS", "CORE_SERIES", "MAX_KIND_NAME", "ErrorKind", "ErrorRecord", "ResultBatch", "kind_name"]

#: an error kind is an exception's class name: a target may make it 20 KB long; kept to this many characters
MAX_KIND_NAME = 120

#: series the recorder itself publishes on every tick
CORE_SERIES = frozenset(
    {
        "calls",
        "ok",
        "errors",
        "timeouts",
        "in_flight",
        "rate",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "error_delta",
        "calls_delta",
        "missed_arrivals",
        "planned_rate",
    }
)

CORE_COLUMNS = [
    "t",
    "ts",
    "calls",
    "ok",
    "errors",
    "timeouts",
    "in_flight",
    "rate",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "sched_p50_ms",
    "sched_p95_ms",
    "sched_p99_ms",
    "missed_arrivals",
    "planned_rate",
]


@dataclass(frozen=True)
class ErrorRecord:
    """One failed call: ``kind`` is the exception type, ``Timeout`` or ``WorkerCrash``."""

    kind: str
    message: str
    index: int = -1
    timeout: bool = False
    #: the id the target sent with the call (HTTP: ``X-Request-ID``), to find it in the service's logs
    request_id: str | None = None
    #: how long the failed call took, or -1 when not known
    latency_ns: int = -1


@dataclass
class ResultBatch:
    """Outcomes of several calls: every latency (ns), and the failures among them; under an
    arrival rate, also the arrivals that were missed (due, never sent: no free slot in time)."""

    lat_ns: npt.NDArray[np.int64]
    errors: list[ErrorRecord] = field(default_factory=list)
    sched_ns: npt.NDArray[np.int64] | None = None
    #: phase times and recorded values of these calls (``soakwatch.phase``/``record``); None when unused
    values: CallValues | None = None
    #: under an arrival rate, arrivals that were due and never sent (no free slot in time)
    missed: int = 0

    @property
    def n(self) -> int:
        return len(self.lat_ns)


@dataclass
class ErrorKind:
    """Running totals for one kind of error."""

    kind: str
    count: int = 0
    first_message: str = ""
    last_message: str = ""
    first_t: float = 0.0
    last_t: float = 0.0
    tick_count: int = 0


def kind_name(kind: str) -> str:
    """An error kind as recorded: text made safe, capped at :data:`MAX_KIND_NAME` characters."""
    kind = safe_str(kind)
    return kind if len(kind) <= MAX_KIND_NAME else kind[: MAX_KIND_NAME - 1] + "…"
