"""Replay: a finished (or crashed) run, seen through the live TUI with a time cursor.

:class:`ReplaySource` is a :class:`~soakwatch.core.source.SnapshotSource` over a run dir,
read through the one reader (:func:`soakwatch.core.rundir_reader.read_run`). It builds the
:class:`~soakwatch.core.snapshot.Snapshot` the stage would have shown at the cursor's
timeline row: counters, latency, rates and series tails from the timeline; errors,
operator actions, marks and the state from the events up to that moment; the verdict and
whole-run latency from ``summary.json`` at the last row. Each plugin passed in rebuilds
its own slice (files, processes, gates, nodes, chaos) with its
:meth:`~soakwatch.core.plugins.Plugin.replay`, the recorded counterpart of its ``view()``.
It yields a new snapshot whenever the cursor moves. The only command it takes is
``seek``; every other one is refused (the stage is over).

``seek`` args: ``{"by": N}`` (rows, negative goes back), ``{"to": "start"|"end"}`` or
``{"index": N}``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from soakwatch.config.constants import DEFAULT_REFRESH_HZ
from soakwatch.core.event_types import Abort, CallError, ErrorCounts, Event, Operator, Signal, StageEnd, StageStart
from soakwatch.core.plugins import Plugin, ReplayFrame
from soakwatch.core.ray_nodes import ray_node_views
from soakwatch.core.rundir_reader import RunRecord, read_run
from soakwatch.core.snapshot import EndpointView, ErrorKindView, EventView, Mark, Snapshot, StageState
from soakwatch.core.snapshot_builder import MARK_KINDS, MAX_MARKS, SERIES_TAIL, merge_part
from soakwatch.core.source import CommandError

__all__ = ["ReplaySource", "snapshot_at"]

#: events carried to the screen (tui.app.MAX_EVENTS)
MAX_EVENTS = 200
#: operator actions that change the stage's state, and the state they lead to
STATE_ACTIONS: dict[str, StageState] = {"pause": "PAUSED", "resume": "RUNNING", "abort": "ABORTING", "stop": "STOPPING"}
FINAL_STATES: dict[str, StageState] = {
    "PASSED": "PASSED",
    "FAILED": "FAILED",
    "ABORTED": "ABORTED",
    "INTERRUPTED": "INTERRUPTED",
    "ERROR": "ERROR",
}
#: redraws per second in replay when the run's own setting is unknown
NOTE = "(replay: the target's output is in workers/*.log, the stage's in stage.log)"


def _errors(events: Sequence[Event]) -> list[ErrorKindView]:
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for e in events:
        if isinstance(e, ErrorCounts):
            for kind, n in e.counts.items():
                counts[str(kind)] = counts.get(str(kind), 0) + int(n)
        elif isinstance(e, CallError) and e.error_kind:
            msg = e.message.removeprefix(f"{e.error_kind}: ")
            first.setdefault(e.error_kind, msg)
            last[e.error_kind] = msg
    kinds = sorted(counts, key=lambda k: -counts[k])
    return [
        ErrorKindView(kind=k, count=counts[k], first_message=first.get(k, ""), last_message=last.get(k, ""))
        for k in kinds
    ]


def _state(run: RunRecord, events: Sequence[Event], at_end: bool) -> tuple[StageState, int | None]:
    end = run.first(StageEnd)
    if at_end:
        if end is not None:
            return FINAL_STATES.get(end.state, "INTERRUPTED"), end.exit_code
        return "INTERRUPTED", None  # crashed: no stage_end was ever written
    state: StageState = "RUNNING"
    for e in events:
        if isinstance(e, Operator) and e.action in STATE_ACTIONS:
            state = STATE_ACTIONS[e.action]
        elif isinstance(e, Abort):
            state = "ABORTING"
        elif isinstance(e, Signal):
            state = "STOPPING"
    return state, None


def _latency(run: RunRecord, i: int, prefix: str = "") -> dict[str, float]:
    out = {}
    for p in ("p50", "p95", "p99", "max"):
        v = run.timeline.value(f"{prefix}{p}_ms", i)
        if v is not None:
            out[p] = v
    return out


def _error_delta(run: RunRecord, i: int, n: int) -> list[float]:
    errs, outs = run.timeline.columns.get("errors"), run.timeline.columns.get("timeouts")
    if errs is None:
        return []
    lo = max(0, i + 1 - n)
    total = [errs[k] + (outs[k] if outs is not None else 0.0) for k in range(max(0, lo - 1), i + 1)]
    deltas = [max(0.0, b - a) for a, b in itertools.pairwise(total)]
    return ([total[0]] if lo == 0 and total else []) + deltas


def _auto_abort(events: Sequence[Event]) -> bool:
    on = True
    for e in events:
        if isinstance(e, Operator) and e.action == "auto_abort":
            on = bool((e.args or {}).get("on", not on))
    return on


def _marks(events: Sequence[Event]) -> list[Mark]:
    return [Mark(t=e.t, kind=MARK_KINDS[e.kind], label=e.message[:40]) for e in events if e.kind in MARK_KINDS][
        -MAX_MARKS:
    ]


def _counters(run: RunRecord, i: int, summary: dict[str, Any] | None) -> dict[str, Any]:
    """Counts, rates, latency and series tails at timeline row ``i``."""
    tl = run.timeline
    t = tl.times[i] if tl.rows else 0.0
    calls = int(tl.value("calls", i) or 0)
    series = {
        name: tl.tail(name, i, SERIES_TAIL)
        for name in ("rate", "p50_ms", "p95_ms", "p99_ms", "in_flight", "planned_rate", "planned_concurrency")
    } | {"error_delta": _error_delta(run, i, SERIES_TAIL)}
    whole = (summary or {}).get("latency") or {}
    return {
        "calls": calls,
        "ok": int(tl.value("ok", i) or 0),
        "errors": int(tl.value("errors", i) or 0),
        "timeouts": int(tl.value("timeouts", i) or 0),
        "in_flight": int(tl.value("in_flight", i) or 0),
        # a request mix's counts at row i (its latency is the whole run's only: not shown at a cursor)
        "endpoints": [
            EndpointView(
                name=n,
                calls=int(tl.value(f"requests[{n}]", i) or 0),
                errors=int(tl.value(f"request_errors[{n}]", i) or 0),
            )
            for n in tl.subjects("requests")
        ],
        "rate": tl.value("rate", i) or 0.0,
        "rate_avg": calls / t if t > 0 else 0.0,
        "latency": _latency(run, i),
        "latency_run": {k: float(whole[k]) for k in ("p50", "p95", "p99", "max", "mean") if k in whole},
        "latency_sched": _latency(run, i, "sched_") or None,
        "series": {k: v for k, v in series.items() if v},
        "nodes": ray_node_views(tl.columns, lambda name: tl.value(name, i)),  # executor ray
    }


def snapshot_at(run: RunRecord, i: int, plugins: Sequence[type[Plugin]] = (), seq: int | None = None) -> Snapshot:
    """The snapshot the stage showed at timeline row ``i`` (clamped to the rows there are);
    each of ``plugins`` adds its slice (see :meth:`Plugin.replay`)."""
    tl = run.timeline
    n = tl.rows
    i = max(0, min(i, n - 1)) if n else 0
    at_end = i >= n - 1
    t = tl.times[i] if n else 0.0
    # what the stage published after row i: every event up to the next tick
    events = run.events_before(None if at_end else tl.times[i + 1])
    state, exit_code = _state(run, events, at_end)
    profile = run.profile
    start = run.first(StageStart)
    summary = run.summary if at_end else None
    data: dict[str, Any] = {
        "seq": seq if seq is not None else i + 1,
        "stage": str(profile.get("name") or (run.summary or {}).get("stage") or run.run_dir.name),
        "profile": str(profile.get("name") or ""),
        "target": str(profile.get("target") or (start.target if start else None) or ""),
        "run_dir": str(run.run_dir),
        "state": state,
        "elapsed": t,
        "planned_calls": profile.get("calls"),
        "planned_duration": profile.get("duration"),
        "open_model": profile.get("rate") is not None
        or any(seg.get("rate") is not None for seg in profile.get("shape") or []),
        **_counters(run, i, summary),
        "error_kinds": _errors(events),
        "events": [
            EventView(seq=e.seq, t=e.t, kind=e.kind, level=e.level, message=e.message) for e in events[-MAX_EVENTS:]
        ],
        "marks": _marks(events),
        "output": [NOTE],
        "auto_abort": _auto_abort(events),
        "verdict": state if exit_code is not None else None,
        "exit_code": exit_code,
        "reports": [str(run.run_dir / f) for f in ("summary.md", "summary.json") if (run.run_dir / f).is_file()]
        if at_end
        else [],
        "extra": {
            "tick": float(profile.get("tick") or 1.0),
            "replay": {"index": i, "rows": n, "t": t, "t_end": tl.times[-1] if n else 0.0, "complete": at_end},
        },
    }
    frame = ReplayFrame(run, i, events, at_end)
    for plugin in plugins:
        merge_part(data, plugin.replay(frame))
    return Snapshot.model_validate(data)


class ReplaySource:
    """A recorded run as a snapshot source; the cursor starts at the end (the verdict)."""

    def __init__(self, run_dir: Path | str, plugins: Sequence[type[Plugin]]) -> None:
        self.run = read_run(Path(run_dir), require_config=False)
        self.plugins = tuple(plugins)
        self.cursor = max(0, self.run.timeline.rows - 1)
        self._moved = asyncio.Event()
        self._closed = False
        self._yielded = 0

    @property
    def rows(self) -> int:
        return self.run.timeline.rows

    @property
    def refresh_hz(self) -> float:
        hz = self.run.profile.get("refresh_hz")
        return float(hz) if isinstance(hz, int | float) and hz > 0 else DEFAULT_REFRESH_HZ

    def snapshot(self) -> Snapshot:
        """The snapshot at the cursor now."""
        return snapshot_at(self.run, self.cursor, self.plugins, seq=self._yielded + 1)

    def seek(self, args: dict[str, Any]) -> int:
        """Move the cursor; the new row index. ValueError on args it does not understand."""
        last = max(0, self.rows - 1)
        if "by" in args:
            target = self.cursor + int(args["by"])
        elif args.get("to") in ("start", "end"):
            target = 0 if args["to"] == "start" else last
        elif "index" in args:
            target = int(args["index"])
        else:
            raise ValueError("seek takes {'by': N}, {'to': 'start'|'end'} or {'index': N}")
        self.cursor = max(0, min(last, target))
        self._moved.set()
        return self.cursor

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        while not self._closed:
            self._moved.clear()
            snap = self.snapshot()
            self._yielded += 1
            yield snap
            await self._moved.wait()

    async def command(self, name: str, args: dict[str, Any] | None = None) -> str:
        if name != "seek":
            raise CommandError(f"{name}: this is a replay of a finished run; only the time cursor moves")
        try:
            i = self.seek(args or {})
        except (TypeError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        t = self.run.timeline.times[i] if self.rows else 0.0
        return f"row {i + 1}/{self.rows} at {t:.1f}s"

    async def close(self) -> None:
        self._closed = True
        self._moved.set()
