"""Replay: a finished (or crashed) run, seen through the live TUI with a time cursor.

:class:`ReplaySource` is a :class:`~soakwatch.core.source.SnapshotSource` over a run dir.
It builds the :class:`~soakwatch.core.snapshot.Snapshot` the stage would have shown at the
cursor's timeline row — counters, latency, rates and series tails from
``timeline.csv``; files and processes from their ``kind[subject]`` columns; errors,
file snapshots, gate transitions, operator actions and marks from the events up to
that moment; the verdict and whole-run latency from ``summary.json`` at the last row —
and yields a new one whenever the cursor moves. The only command it takes is
``seek``; every other one is refused (the stage is over).

``seek`` args: ``{"by": N}`` (rows, negative goes back), ``{"to": "start"|"end"}`` or
``{"index": N}``.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from soakwatch.config.constants import DEFAULT_REFRESH_HZ
from soakwatch.core.recording import Recording, load_recording
from soakwatch.core.snapshot import (
    ErrorKindView,
    EventView,
    FileView,
    GateView,
    Mark,
    ProcView,
    Snapshot,
    SnapshotRow,
    StageState,
)
from soakwatch.core.snapshot_builder import MARK_KINDS, MAX_MARKS, SERIES_TAIL
from soakwatch.core.source import CommandError

__all__ = ["ReplaySource", "snapshot_at"]

#: points of a process's RSS sparkline (collectors.processes.TAIL_POINTS)
RSS_TAIL = 60
#: file snapshot rows shown (collectors.files.ROWS_SHOWN)
SNAPSHOT_ROWS = 60
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


def _errors(events: list[dict[str, Any]]) -> list[ErrorKindView]:
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for e in events:
        if e.get("kind") == "errors" and isinstance(e.get("counts"), dict):
            for kind, n in e["counts"].items():
                counts[str(kind)] = counts.get(str(kind), 0) + int(n)
        elif e.get("kind") == "error" and e.get("error_kind"):
            kind = str(e["error_kind"])
            msg = str(e.get("msg", "")).removeprefix(f"{kind}: ")
            first.setdefault(kind, msg)
            last[kind] = msg
    kinds = sorted(counts, key=lambda k: -counts[k])
    return [
        ErrorKindView(kind=k, count=counts[k], first_message=first.get(k, ""), last_message=last.get(k, ""))
        for k in kinds
    ]


def _state(rec: Recording, events: list[dict[str, Any]], at_end: bool) -> tuple[StageState, int | None]:
    end = rec.first("stage_end")
    if at_end:
        if end is not None:
            code = end.get("exit_code")
            final = FINAL_STATES.get(str(end.get("state")), "INTERRUPTED")
            return final, (int(code) if code is not None else None)
        return "INTERRUPTED", None  # crashed: no stage_end was ever written
    state: StageState = "RUNNING"
    for e in events:
        kind = e.get("kind")
        if kind == "operator" and e.get("action") in STATE_ACTIONS:
            state = STATE_ACTIONS[str(e["action"])]
        elif kind == "abort":
            state = "ABORTING"
        elif kind == "signal":
            state = "STOPPING"
    return state, None


def _files(rec: Recording, i: int) -> list[FileView]:
    out = []
    for path in sorted(set(rec.subjects("size_kb")) | set(rec.subjects("lines"))):
        size_kb = rec.value(f"size_kb[{path}]", i)
        lines = rec.value(f"lines[{path}]", i)
        first_kb = next((v for v in rec.columns.get(f"size_kb[{path}]", []) if not math.isnan(v)), None)
        first_lines = next((v for v in rec.columns.get(f"lines[{path}]", []) if not math.isnan(v)), None)
        corrupt = rec.value(f"corrupt_reads[{path}]", i)
        out.append(
            FileView(
                path=path,
                size=int((size_kb or 0.0) * 1024),
                lines=int(lines or 0),
                growth_lines=int((lines or 0) - (first_lines or 0)),
                growth_bytes=int(((size_kb or 0.0) - (first_kb or 0.0)) * 1024),
                corrupt_reads=int(corrupt or 0),
                exists=size_kb is not None,
            )
        )
    return out


def _snapshot_rows(events: list[dict[str, Any]]) -> list[SnapshotRow]:
    rows: list[SnapshotRow] = []
    for e in events:
        if e.get("kind") != "snapshot" or not isinstance(e.get("files"), dict):
            continue
        for path, info in sorted(e["files"].items()):
            if isinstance(info, dict):
                rows.append(
                    SnapshotRow(
                        label=str(e.get("label", "")),
                        previous=str(e.get("previous", "")),
                        file=str(path),
                        lines=int(info.get("lines") or 0),
                        delta=int(info.get("delta") or 0),
                        calls=int(e.get("calls") or 0),
                        t=float(e.get("t") or 0.0),
                    )
                )
    return rows[-SNAPSHOT_ROWS:][::-1]


def _pids(rec: Recording) -> dict[str, int]:
    start = rec.first("stage_start") or {}
    pids = {str(k): int(v) for k, v in (start.get("workers") or {}).items() if isinstance(v, int)}
    if isinstance(start.get("pid"), int):
        pids["monitor"] = int(start["pid"])
    return pids


def _processes(rec: Recording, i: int, events: list[dict[str, Any]]) -> list[ProcView]:
    pids = _pids(rec)
    crashed = {str(e.get("worker")) for e in events if e.get("kind") == "worker_crash"}
    restarted = {str(e.get("worker")) for e in events if e.get("kind") == "worker_restart"}
    out = []
    for name in rec.subjects("rss_mb"):
        rss = rec.value(f"rss_mb[{name}]", i)
        if rss is None:
            continue
        out.append(
            ProcView(
                name=name,
                pid=pids.get(name),
                alive=name not in crashed or name in restarted,
                rss_mb=rss,
                cpu=rec.value(f"cpu_pct[{name}]", i) or 0.0,
                threads=int(rec.value(f"threads[{name}]", i) or 0),
                open_files=int(rec.value(f"open_files[{name}]", i) or 0),
                growth=rec.value(f"rss_growth[{name}]", i),
                slope_mb_h=rec.value(f"rss_slope[{name}]", i),
                slope_confidence=rec.value(f"rss_slope_conf[{name}]", i),
                rss_tail=rec.tail(f"rss_mb[{name}]", i, RSS_TAIL),
            )
        )
    return out


def _gates(rec: Recording, i: int, events: list[dict[str, Any]], at_end: bool) -> list[GateView]:
    rules = (rec.first("gate_rules") or {}).get("gates") or []
    status: dict[str, tuple[str, float | None]] = {}
    for e in events:
        if e.get("kind") == "gate" or (at_end and e.get("kind") == "gate_final"):
            status[str(e.get("gate"))] = (str(e.get("status")), e.get("changed_at", e.get("t")))
    out = []
    for r in rules:
        if not isinstance(r, dict) or "gate" not in r:
            continue
        name = str(r["gate"])
        observed = rec.value(f"gate_value[{name}]", i)
        st, changed = status.get(name, ("pass" if observed is not None else "pending", None))
        out.append(
            GateView(
                name=name,
                metric=str(r.get("metric", "")),
                condition=str(r.get("condition", "")),
                severity=str(r.get("severity", "fail")),
                status=st,
                observed=observed,
                margin=rec.value(f"gate_margin[{name}]", i),
                changed_at=float(changed) if isinstance(changed, int | float) else None,
                abort=bool(r.get("abort", False)),
            )
        )
    return out


def _latency(rec: Recording, i: int, prefix: str = "") -> dict[str, float]:
    out = {}
    for p in ("p50", "p95", "p99", "max"):
        v = rec.value(f"{prefix}{p}_ms", i)
        if v is not None:
            out[p] = v
    return out


def _error_delta(rec: Recording, i: int, n: int) -> list[float]:
    errs, outs = rec.columns.get("errors"), rec.columns.get("timeouts")
    if errs is None:
        return []
    lo = max(0, i + 1 - n)
    total = [errs[k] + (outs[k] if outs is not None else 0.0) for k in range(max(0, lo - 1), i + 1)]
    deltas = [max(0.0, b - a) for a, b in itertools.pairwise(total)]
    return ([total[0]] if lo == 0 and total else []) + deltas


def snapshot_at(rec: Recording, i: int, seq: int | None = None) -> Snapshot:
    """The snapshot the stage showed at timeline row ``i`` (clamped to the rows there are)."""
    n = rec.rows
    i = max(0, min(i, n - 1)) if n else 0
    at_end = i >= n - 1
    t = rec.times[i] if n else 0.0
    # what the stage published after row i: every event up to the next tick
    events = rec.events_before(None if at_end else rec.times[i + 1])
    state, exit_code = _state(rec, events, at_end)
    profile = rec.profile
    start = rec.first("stage_start") or {}
    summary = rec.summary if at_end else None
    calls = int(rec.value("calls", i) or 0)
    series = {name: rec.tail(name, i, SERIES_TAIL) for name in ("rate", "p50_ms", "p95_ms", "p99_ms", "in_flight")} | {
        "error_delta": _error_delta(rec, i, SERIES_TAIL)
    }
    auto_abort = True
    for e in events:
        if e.get("kind") == "operator" and e.get("action") == "auto_abort":
            auto_abort = bool((e.get("args") or {}).get("on", not auto_abort))
    marks = [
        Mark(t=float(e.get("t", 0.0)), kind=MARK_KINDS[str(e["kind"])], label=str(e.get("msg", ""))[:40])
        for e in events
        if e.get("kind") in MARK_KINDS
    ][-MAX_MARKS:]
    sched = _latency(rec, i, "sched_")
    whole = (summary or {}).get("latency") or {}
    return Snapshot(
        seq=seq if seq is not None else i + 1,
        stage=str(profile.get("name") or (rec.summary or {}).get("stage") or rec.run_dir.name),
        profile=str(profile.get("name") or ""),
        target=str(profile.get("target") or start.get("target") or ""),
        run_dir=str(rec.run_dir),
        state=state,
        elapsed=t,
        planned_calls=profile.get("calls"),
        planned_duration=profile.get("duration"),
        open_model=profile.get("rate") is not None,
        calls=calls,
        ok=int(rec.value("ok", i) or 0),
        errors=int(rec.value("errors", i) or 0),
        timeouts=int(rec.value("timeouts", i) or 0),
        in_flight=int(rec.value("in_flight", i) or 0),
        rate=rec.value("rate", i) or 0.0,
        rate_avg=calls / t if t > 0 else 0.0,
        latency=_latency(rec, i),
        latency_run={k: float(whole[k]) for k in ("p50", "p95", "p99", "max", "mean") if k in whole},
        latency_sched=sched or None,
        error_kinds=_errors(events),
        series={k: v for k, v in series.items() if v},
        files=_files(rec, i),
        snapshots=_snapshot_rows(events),
        processes=_processes(rec, i, events),
        gates=_gates(rec, i, events, at_end),
        events=[
            EventView(
                seq=int(e.get("seq", 0)),
                t=float(e.get("t", 0.0)),
                kind=str(e.get("kind", "")),
                level=str(e.get("level", "info")),
                message=str(e.get("msg", "")),
            )
            for e in events[-MAX_EVENTS:]
        ],
        marks=marks,
        output=[NOTE],
        auto_abort=auto_abort,
        verdict=state if exit_code is not None else None,
        exit_code=exit_code,
        reports=[str(rec.run_dir / name) for name in ("summary.md", "summary.json") if (rec.run_dir / name).is_file()]
        if at_end
        else [],
        extra={
            "tick": float(profile.get("tick") or 1.0),
            "replay": {"index": i, "rows": n, "t": t, "t_end": rec.times[-1] if n else 0.0, "complete": at_end},
        },
    )


class ReplaySource:
    """A recorded run as a snapshot source; the cursor starts at the end (the verdict)."""

    def __init__(self, run_dir: Path | str) -> None:
        self.recording = load_recording(Path(run_dir))
        self.cursor = max(0, self.recording.rows - 1)
        self._moved = asyncio.Event()
        self._closed = False
        self._yielded = 0

    @property
    def rows(self) -> int:
        return self.recording.rows

    @property
    def refresh_hz(self) -> float:
        hz = self.recording.profile.get("refresh_hz")
        return float(hz) if isinstance(hz, int | float) and hz > 0 else DEFAULT_REFRESH_HZ

    def snapshot(self) -> Snapshot:
        """The snapshot at the cursor now."""
        return snapshot_at(self.recording, self.cursor, seq=self._yielded + 1)

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
        t = self.recording.times[i] if self.rows else 0.0
        return f"row {i + 1}/{self.rows} at {t:.1f}s"

    async def close(self) -> None:
        self._closed = True
        self._moved.set()
