"""The seam between the stage and every view: immutable snapshots of the live state.

The stage builds one :class:`Snapshot` per refresh and hands it to its subscribers
(the headless view, the control socket that ``run``'s TUI and ``attach`` read). A
snapshot serialises to one JSON line and back, so views in other processes see
exactly what an in-process view sees. Views never compute metrics from raw data.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from soakwatch.config.constants import FINAL_STATES

__all__ = [
    "ChaosView",
    "CollectorView",
    "EndpointView",
    "ErrorKindView",
    "EventView",
    "FileView",
    "GateView",
    "GpuView",
    "Mark",
    "NodeView",
    "ProcView",
    "Snapshot",
    "SnapshotRow",
    "StageState",
]

StageState = Literal[
    "STARTING", "RUNNING", "PAUSED", "ABORTING", "STOPPING", "PASSED", "FAILED", "ABORTED", "INTERRUPTED", "ERROR"
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorKindView(_View):
    kind: str
    count: int
    first_message: str = ""
    last_message: str = ""


class EndpointView(_View):
    """One endpoint of a request mix (``[[http.requests]]``): calls and errors so far, whole-run latency."""

    name: str
    calls: int
    errors: int
    p50_ms: float | None = None
    p95_ms: float | None = None


class EventView(_View):
    seq: int
    t: float
    kind: str
    level: str
    message: str


class FileView(_View):
    """A watched file (collectors.files)."""

    path: str
    size: int = 0
    lines: int = 0
    growth_lines: int = 0
    growth_bytes: int = 0
    json_ok: bool | None = None
    corrupt_reads: int = 0
    over_warn: bool = False
    exists: bool = True


class SnapshotRow(_View):
    """One snapshot Δ line: ``final_400 → final_500: pra_log.json Δ=0 lines``."""

    label: str
    previous: str
    file: str
    lines: int
    delta: int
    calls: int
    t: float
    #: soakwatch truncated the file in this interval ("truncated (over 400 KB at call 800): 252 lines
    #: removed"): the Δ counts from the truncation and is not judged
    note: str = ""
    lines_before: int | None = None
    removed: int | None = None


class ProcView(_View):
    """A process's memory and CPU (collectors.processes)."""

    name: str
    pid: int | None = None
    alive: bool = True
    rss_mb: float = 0.0
    cpu: float = 0.0
    threads: int = 0
    open_files: int = 0
    growth: float | None = None
    #: RSS now / the process's first sample (growth since warm-up is ``growth``)
    growth_start: float | None = None
    slope_mb_h: float | None = None
    slope_confidence: float | None = None
    forecast_s: float | None = None  # seconds to processes.memory_limit_mb at this slope
    rss_tail: list[float] = Field(default_factory=list)
    #: the fitted RSS trend (slope_mb_h) at the times of ``rss_tail``'s points (empty without a trend)
    rss_fit: list[float] = Field(default_factory=list)


class GpuView(_View):
    """A GPU's memory and utilisation, or a process's memory on the GPUs (collectors.gpu)."""

    name: str
    mem_mb: float = 0.0
    #: the device's memory (None for a process)
    total_mb: float | None = None
    util_pct: float | None = None


class GateView(_View):
    """A gate's live state (gates)."""

    name: str
    metric: str
    condition: str
    severity: str
    status: str
    observed: float | str | None = None
    margin: float | None = None
    changed_at: float | None = None
    abort: bool = False
    forecast_s: float | None = None
    #: why the gate is not judged (yet): "no samples of rss_slope[target] (processes collector)"
    why: str = ""
    #: what the gate watches when its metric names one (``committed_height[node2]`` → ``node2``)
    subject: str = ""
    #: the condition without the metric (``stall < 5s``, ``p95 < 3 over 30s``)
    check: str = ""
    #: the unit of ``observed`` and ``margin``: ``ms``, ``s``, ``MB``, ``MB/h``, ``ratio`` (shown as %) or none
    unit: str = ""
    #: seconds of data the gate judges (None for the whole run), to link it to actions in that window
    window_s: float | None = None


class CollectorView(_View):
    """A collector source's health (collectors): ok, or failing since ``since`` with its last error."""

    collector: str
    source: str
    status: Literal["ok", "failing"] = "ok"
    since: float | None = None
    last_error: str = ""
    failures: int = 0
    #: successful samples (reads, scrapes) so far
    samples: int = 0


class NodeView(_View):
    """A supervised node of a topology (soakwatch.nodes): its process state and its latest report."""

    id: str
    #: new, running, paused, down (dead, may be restarted), stopped, gave_up
    state: str
    pid: int | None = None
    restarts: int = 0
    #: seconds since the node's last report was read (None before the first)
    report_age_s: float | None = None
    #: the latest value of each of the node's ``report_fields``
    fields: dict[str, float] = Field(default_factory=dict)
    #: resident memory now (None while the node is not running)
    rss_mb: float | None = None


class ChaosView(_View):
    """A chaos action the operator can pick: what it does, to what, for how long (soakwatch.chaos)."""

    name: str
    action: str
    target: str = ""
    duration_s: float = 0.0
    #: planned start, seconds after the stage started (None: on demand only)
    at_s: float | None = None


class Mark(_View):
    """A moment to mark on time charts: chaos, gate transitions, operator actions."""

    t: float
    kind: str
    label: str


class Snapshot(_View):
    """The live state at one refresh."""

    seq: int
    stage: str
    profile: str
    target: str
    run_dir: str
    state: StageState
    elapsed: float
    eta: float | None = None
    planned_calls: int | None = None
    planned_duration: float | None = None
    open_model: bool = False
    calls: int = 0
    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    in_flight: int = 0
    rate: float = 0.0
    #: open model: the arrival rate planned now (0 while paused) and the arrivals due and never sent
    planned_rate: float | None = None
    missed_arrivals: int = 0
    rate_avg: float = 0.0
    latency: dict[str, float] = Field(default_factory=dict)
    latency_run: dict[str, float] = Field(default_factory=dict)
    latency_sched: dict[str, float] | None = None
    #: whole-run latency of each phase a target timed with ``soakwatch.phase`` (count, p50, p95, p99, max ms)
    phases: dict[str, dict[str, float]] = Field(default_factory=dict)
    #: tokens of a model-server stage: prompt, completion (output) so far, output tokens/s now and on average
    tokens: dict[str, float] = Field(default_factory=dict)
    error_kinds: list[ErrorKindView] = Field(default_factory=list)
    #: a request mix's endpoints (empty without ``[[http.requests]]``)
    endpoints: list[EndpointView] = Field(default_factory=list)
    #: per tick (oldest first, as ``series``), the calls that ended per latency bucket
    #: (constants.LATENCY_HEAT_EDGES_MS; trailing empty buckets left out, [] for a tick without calls)
    latency_heat: list[list[int]] = Field(default_factory=list)
    series: dict[str, list[float]] = Field(default_factory=dict)
    files: list[FileView] = Field(default_factory=list)
    snapshots: list[SnapshotRow] = Field(default_factory=list)
    processes: list[ProcView] = Field(default_factory=list)
    #: GPUs and the target's processes on them (empty without NVML); ``gpu_note``: "no GPU: why"
    gpus: list[GpuView] = Field(default_factory=list)
    gpu_note: str = ""
    gates: list[GateView] = Field(default_factory=list)
    collectors: list[CollectorView] = Field(default_factory=list)
    nodes: list[NodeView] = Field(default_factory=list)
    events: list[EventView] = Field(default_factory=list)
    marks: list[Mark] = Field(default_factory=list)
    output: list[str] = Field(default_factory=list)
    auto_abort: bool = True
    chaos_actions: list[str] = Field(default_factory=list)
    chaos: list[ChaosView] = Field(default_factory=list)
    verdict: str | None = None
    exit_code: int | None = None
    reports: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def progress(self) -> float | None:
        """0..1 for count stages and duration stages, None otherwise."""
        if self.planned_calls:
            return min(1.0, self.calls / self.planned_calls)
        if self.planned_duration:
            return min(1.0, self.elapsed / self.planned_duration)
        return None
