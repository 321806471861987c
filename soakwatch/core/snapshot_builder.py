"""Building the snapshots a stage publishes: its own numbers plus every plugin's fields."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from soakwatch.config.profile import Profile
from soakwatch.core.events import Event, EventLog
from soakwatch.core.plugins import Plugin
from soakwatch.core.ray_nodes import ray_node_views
from soakwatch.core.recorder import Recorder
from soakwatch.core.snapshot import EndpointView, ErrorKindView, EventView, Mark, Snapshot

__all__ = ["LiveStage", "SnapshotBuilder", "endpoint_views", "merge_part"]


class LiveStage(Protocol):
    """What a snapshot is built from: the stage as the core sees it (soakwatch.stage.Stage)."""

    @property
    def profile(self) -> Profile: ...
    @property
    def recorder(self) -> Recorder: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def plugins(self) -> Sequence[Plugin]: ...
    @property
    def state(self) -> str: ...
    @property
    def target_label(self) -> str: ...
    @property
    def run_dir(self) -> Path | None: ...
    @property
    def auto_abort(self) -> bool: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def verdict(self) -> str | None: ...

    def guard(self, plugin: Plugin, hook: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a plugin hook; an exception becomes an event, never the stage's end."""
        ...


#: points of each series carried in a snapshot, for sparklines
SERIES_TAIL = 120
#: seconds of the live output tokens/s
TOKENS_WINDOW = 10.0
#: series every snapshot carries
SNAPSHOT_SERIES = (
    "rate",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "error_delta",
    "in_flight",
    "planned_rate",
    "planned_concurrency",
)
#: event kinds marked on time charts
MARK_KINDS = {"chaos_start": "chaos", "chaos_end": "chaos", "gate": "gate", "operator": "op"}
MAX_MARKS = 200


class SnapshotBuilder:
    """Keeps what a snapshot needs between refreshes: its sequence, the last event sent, the chart marks."""

    def __init__(self) -> None:
        self._seq = 0
        self._event_seq = 0
        self._marks: list[Mark] = []

    def build(self, stage: LiveStage, reports: list[str] | None = None) -> Snapshot:
        """The stage's live state now; plugins add their fields (files, gates, processes...)."""
        rec = stage.recorder
        p = stage.profile
        self._seq += 1
        new_events = self._new_events(stage)
        elapsed = rec.last_tick_t
        series = {}
        for name in SNAPSHOT_SERIES:
            s = rec.series(name)
            if s is not None and (name != "planned_rate" or p.open_model):  # NaN in the closed model
                series[name] = s.tail(SERIES_TAIL)
        data: dict[str, Any] = {
            "seq": self._seq,
            "stage": p.name,
            "profile": p.name,
            "target": stage.target_label,
            "run_dir": str(stage.run_dir),
            "state": stage.state,
            "elapsed": elapsed,
            "eta": _eta(stage, elapsed),
            "planned_calls": p.calls,
            "planned_duration": p.duration,
            "open_model": p.open_model,
            "calls": rec.calls,
            "ok": rec.ok,
            "errors": rec.errors,
            "timeouts": rec.timeouts,
            "in_flight": rec.in_flight,
            "rate": rec.rate,
            "planned_rate": rec.planned_rate,
            "missed_arrivals": rec.missed,
            "rate_avg": rec.calls / elapsed if elapsed > 0 else 0.0,
            "latency": rec.latency,
            "latency_run": _run_latency(rec),
            "latency_sched": rec.sched_latency,
            "phases": (phases := rec.callvalues.phase_summary()),
            "endpoints": endpoint_views(rec, phases),
            "tokens": _tokens(rec, elapsed),
            "error_kinds": [
                ErrorKindView(kind=k.kind, count=k.count, first_message=k.first_message, last_message=k.last_message)
                for k in sorted(rec.kinds.values(), key=lambda k: -k.count)
            ],
            "series": series,
            "latency_heat": list(rec.heat),
            "events": [EventView(seq=e.seq, t=e.t, kind=e.kind, level=e.level, message=e.message) for e in new_events],
            "marks": list(self._marks),
            "auto_abort": stage.auto_abort,
            "exit_code": stage.exit_code,
            "reports": reports or [],
            "verdict": stage.verdict if stage.exit_code is not None else None,
            "extra": {"tick": p.tick},
            "nodes": ray_node_views(rec.series_names(), rec.value),  # executor ray; [[nodes]] add theirs
        }
        for plugin in stage.plugins:
            part = stage.guard(plugin, "view", plugin.view)
            if part:
                merge_part(data, part)
        return Snapshot.model_validate(data)

    def _new_events(self, stage: LiveStage) -> list[Event]:
        """The events since the last snapshot; those of a :data:`MARK_KINDS` kind become chart marks."""
        new_events = stage.events.since(self._event_seq)
        if new_events:
            self._event_seq = new_events[-1].seq
        for ev in new_events:
            mk = MARK_KINDS.get(ev.kind)
            if mk:
                self._marks.append(Mark(t=ev.t, kind=mk, label=ev.message[:40]))
        del self._marks[:-MAX_MARKS]
        return new_events


def _eta(stage: LiveStage, elapsed: float) -> float | None:
    """Seconds left: from the call rate for a call count while running, else from the duration."""
    rec, p = stage.recorder, stage.profile
    if p.calls and rec.rate > 0 and stage.state == "RUNNING":
        return max(0.0, (p.calls - rec.calls) / rec.rate)
    if p.duration:
        return max(0.0, p.duration - elapsed)
    return None


def merge_part(data: dict[str, Any], part: dict[str, Any]) -> None:
    """Add a plugin's fields to a snapshot's: lists are joined, dicts merged, the rest replaced."""
    for key, value in part.items():
        if isinstance(value, list) and isinstance(data.get(key), list):
            data[key] = [*data[key], *value]
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value


def endpoint_views(rec: Recorder, phases: dict[str, dict[str, float]]) -> list[EndpointView]:
    """A request mix's endpoints, in the profile's order: the counts the HTTP runner publishes
    (``requests[NAME]``, ``request_errors[NAME]``) and the whole-run latency of the phase ``endpoint:NAME``."""
    out = []
    for series in rec.series_names():
        if not (series.startswith("requests[") and series.endswith("]")):
            continue
        name = series[len("requests[") : -1]
        calls, errors = rec.value(series), rec.value(f"request_errors[{name}]")
        lat = phases.get(f"endpoint:{name}") or {}
        out.append(
            EndpointView(
                name=name,
                calls=0 if calls is None or math.isnan(calls) else int(calls),
                errors=0 if errors is None or math.isnan(errors) else int(errors),
                p50_ms=lat.get("p50"),
                p95_ms=lat.get("p95"),
            )
        )
    return out


def _run_latency(rec: Recorder) -> dict[str, float]:
    if not rec.hist.total:
        return {}
    p50, p95, p99 = rec.hist.percentiles([50, 95, 99])
    return {
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "max": rec.hist.hdr.get_max_value() / 1000,
        "mean": rec.hist.mean() / 1000,
    }


def _tokens(rec: Recorder, elapsed: float) -> dict[str, float]:
    """Token totals and output tokens/s (over the last :data:`TOKENS_WINDOW` seconds, and the run)."""
    out = rec.series("tokens_completion")
    if out is None or not len(out):
        return {}
    pts = [(t, v) for t, v in out.since(elapsed - TOKENS_WINDOW) if not math.isnan(v)]
    last = out.last
    if last is None or math.isnan(last):
        return {}
    now = (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0]) if len(pts) > 1 and pts[-1][0] > pts[0][0] else 0.0
    prompt = rec.value("tokens_prompt")
    return {
        "prompt": 0.0 if prompt is None or math.isnan(prompt) else prompt,
        "completion": last,
        "per_s": now,
        "per_s_avg": last / elapsed if elapsed > 0 else 0.0,
    }
