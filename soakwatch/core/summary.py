"""The summary of a stage: a versioned pydantic model, rendered by reports.

Everything in it is rebuilt from the run directory alone (run_config.json,
events.jsonl, timeline.csv, latency.hdr) by :func:`soakwatch.core.reports.build_summary`,
so a summary is the same whether the runner wrote it or ``soakwatch report`` did after
the runner was killed. Collectors and gates add their own sections.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SCHEMA_VERSION", "ErrorSummary", "LatencySummary", "Summary"]

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorSummary(_Model):
    kind: str
    count: int
    first_message: str = ""
    first_t: float | None = None
    last_message: str = ""


class LatencySummary(_Model):
    """Latency percentiles in milliseconds."""

    count: int = 0
    p50: float = 0.0
    p90: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    p999: float = 0.0
    max: float = 0.0
    mean: float = 0.0


class Summary(_Model):
    """What ran, the verdict, and what was measured."""

    schema_version: int = SCHEMA_VERSION
    stage: str
    target: str | None = None
    #: the run's tags (``--label model=real``) and seed, from run_config.json
    labels: dict[str, str] = Field(default_factory=dict)
    seed: int | None = None
    run_dir: str
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float = 0.0
    complete: bool = Field(description="False when the runner died before writing its end")
    state: str
    #: the verdict line: the state and what a user could not see ("PASSED, 2 gates not judged")
    verdict: str = ""
    #: what could not be seen or judged (unjudged gates, failing collectors, load not applied)
    caveats: list[str] = Field(default_factory=list)
    #: why soakwatch could not run the stage as planned (state ERROR)
    error: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    planned_calls: int | None = None
    planned_duration: float | None = None
    concurrency: int = 1
    rate: float | None = None
    #: a ``[[shape]]`` plan, one ``"RATE/s for SECONDS"`` per segment (``rate`` is None then), or
    #: ``"N in flight for SECONDS"`` for a concurrency shape
    shape: list[str] = Field(default_factory=list)
    isolation: str = "process"

    @property
    def load_model(self) -> str:
        """The plan's load model for the reports: a shape, a fixed rate or a concurrency."""
        if self.shape:
            closed = all(" in flight for " in seg for seg in self.shape)
            return f"shape {', '.join(self.shape)} ({'closed' if closed else 'open'} model)"
        return f"{self.rate:g} calls/s (open model)" if self.rate else f"concurrency {self.concurrency}"

    calls: int = 0
    #: calls started: recorded, plus those in flight at the last flush (their outcome unknown after a kill)
    started_calls: int = 0
    #: calls started whose outcome is not in the run directory (in flight when the runner died)
    unaccounted_calls: int = 0
    #: a stopped stage: calls in flight at the stop that finished within ``stop_grace``, and those
    #: cancelled after it (neither results nor errors); None when the stage was not stopped
    stop_finished: int | None = None
    stop_cancelled: int | None = None
    #: open model: arrivals that were due and never sent (no free slot within the grace)
    missed_arrivals: int = 0
    #: lines in failures.jsonl, and failed calls left out of it at its size cap
    failures_logged: int = 0
    failures_left_out: int = 0
    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    error_ratio: float = 0.0
    rate_avg: float = 0.0
    errors_by_kind: list[ErrorSummary] = Field(default_factory=list)
    latency: LatencySummary = Field(default_factory=LatencySummary)
    latency_scheduled: LatencySummary | None = None
    #: latency of each phase a target timed with ``soakwatch.phase`` (phases.hdr)
    phases: dict[str, LatencySummary] = Field(default_factory=dict)
    operator_actions: list[str] = Field(default_factory=list)
    hangs: int = 0
    worker_crashes: int = 0
    worker_restarts: int = 0
    #: processes the target left running once its worker ended (killed by soakwatch; orphans_killed events)
    orphans: int = 0
    events: int = 0
    sections: dict[str, Any] = Field(default_factory=dict)
