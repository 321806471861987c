"""Deterministic sample snapshots of a demo-engine stage, for screenshots and tests.

Every value is computed from fixed formulas (no clock, no randomness), so SVGs made
from them only change when the UI does. ``sample_snapshot`` gives one moment of the
stage in a chosen situation; :class:`SampleSource` serves a list of them as a
:class:`~soakwatch.core.source.SnapshotSource` and records the commands it is sent.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from soakwatch.core.snapshot import (
    ChaosView,
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

__all__ = ["SAMPLE_RUN_DIR", "SampleSource", "Situation", "sample_snapshot"]

Situation = Literal["running", "failing", "paused", "finished", "finished_warn", "topology"]
#: a count stage of about two minutes at 38 calls/s
PLANNED = 4800
SAMPLE_RUN_DIR = "/srv/soak/.soakwatch/runs/demo-20250101T000000Z"
TICK = 0.5
#: the demo's chaos actions as the chaos picker lists them
SAMPLE_CHAOS = [
    ChaosView(name="error_burst", action="errors", duration_s=10.0, at_s=40.0),
    ChaosView(name="latency_spike", action="latency", duration_s=15.0),
    ChaosView(name="corrupt_pra_log", action="corrupt_file", target="state/pra_log.json"),
    ChaosView(name="kill_worker", action="kill_worker", target="worker-0"),
]
#: the verdict line of the finished situations (soakwatch.core.verdict's wording)
VERDICTS = {
    "finished": "FAILED: gate errors under 2%: error_ratio < 2% over 30s (observed 0.034)",
    "finished_warn": "PASSED, 1 gate not judged",
}
POINTS = 120


def _wave(i: int, base: float, amp: float, period: float, phase: float = 0.0) -> float:
    return base + amp * math.sin(2 * math.pi * i / period + phase)


def _series(elapsed: float, chaos: tuple[float, float]) -> dict[str, list[float]]:
    n = min(POINTS, int(elapsed / TICK))
    start = elapsed - (n - 1) * TICK
    rate, p95, p50, p99, err = [], [], [], [], []
    for i in range(n):
        t = start + i * TICK
        in_chaos = chaos[0] <= t <= chaos[1]
        rate.append(round(_wave(i, 39.0, 2.5, 17) - (9.0 if in_chaos else 0.0), 2))
        p95.append(round(_wave(i, 6.2, 0.8, 23, 1.0) + (38.0 if in_chaos else 0.0), 2))
        p50.append(round(_wave(i, 2.8, 0.3, 19), 2))
        p99.append(round(p95[-1] * 1.9, 2))
        err.append(float(int(in_chaos) * 6 + (1 if i % 29 == 0 else 0)))
    return {"rate": rate, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "error_delta": err}


def _heat(elapsed: float, chaos: tuple[float, float]) -> list[list[int]]:
    """Calls per tick per latency bucket (1-2-5 ms edges): most at 1–5 ms, a tail to 20 ms, 20–50 ms under chaos."""
    n = min(POINTS, int(elapsed / TICK))
    start = elapsed - (n - 1) * TICK
    rows = []
    for i in range(n):
        slow = chaos[0] <= start + i * TICK <= chaos[1]
        row = [0, 0, 0, 1 + i % 3, round(_wave(i, 7, 2, 19)), round(_wave(i, 9, 3, 23)), 1 + (i % 7 == 0), i % 5 == 0]
        rows.append([*row, 8 if slow else int(i % 37 == 0)])
    return rows


def _gates(situation: Situation) -> list[GateView]:
    failing = situation in ("failing", "finished")
    warned = situation == "finished_warn"
    return [
        GateView(
            name="errors under 2%",
            metric="error_ratio",
            condition="error_ratio < 2% over 30s",
            check="< 2% over 30s",
            unit="ratio",
            window_s=30.0,
            severity="fail",
            status="fail" if failing else "pass",
            observed=0.034 if failing else 0.011,
            margin=-0.014 if failing else 0.009,
            abort=True,
            changed_at=47.0 if failing else None,
        ),
        GateView(
            name="p95 latency",
            metric="latency",
            condition="latency p95 < 25 over 10s",
            check="p95 < 25 over 10s",
            unit="ms",
            window_s=10.0,
            severity="fail",
            status="warn" if failing or warned else "pass",
            observed=44.1 if failing else 21.7 if warned else 6.43,
            margin=-19.1 if failing else 3.3 if warned else 18.57,
            changed_at=45.0 if failing or warned else None,
        ),
        GateView(
            name="worker memory",
            metric="rss_slope[worker-0]",
            condition="rss_slope[worker-0] < 500",
            check="< 500",
            subject="worker-0",
            unit="MB/h",
            severity="warn",
            status="warn" if warned else "pass",
            observed=612.0 if warned else 310.0,
            margin=-112.0 if warned else 190.0,
        ),
        GateView(
            name="dag unchanged",
            metric="files_changed",
            condition="files_changed == 0",
            check="== 0",
            severity="fail",
            status="insufficient_data" if warned else "pass",
            observed=None if warned else 0,
            margin=None if warned else 0,
        ),
    ]


def _events(elapsed: float) -> list[EventView]:
    raw = [
        (0.0, "stage_start", "info", "stage demo started: soakwatch.demo:run_model"),
        (2.5, "snapshot", "info", "final_0: pra_log.json 40 lines, tul_log.json 100 lines"),
        (30.0, "operator", "info", "pause (tui): pause: ok"),
        (33.0, "operator", "info", "resume (tui): resume: ok"),
        (40.0, "chaos_start", "warn", "chaos error_burst for 10s"),
        (47.0, "gate", "error", "gate error_ratio: pass → fail (3.4%)"),
        (50.0, "chaos_end", "info", "chaos error_burst ended"),
        (52.0, "truncate", "info", "truncated state/tul_log.json (212.0KB → 0B)"),
        (55.0, "snapshot", "info", "final_1400 → final_1500: pra_log.json Δ=0 lines"),
    ]
    return [
        EventView(seq=i + 1, t=t, kind=k, level=lvl, message=m) for i, (t, k, lvl, m) in enumerate(raw) if t <= elapsed
    ]


def _marks(elapsed: float) -> list[Mark]:
    kinds = {"chaos_start": "chaos", "chaos_end": "chaos", "gate": "gate", "operator": "op"}
    return [Mark(t=e.t, kind=kinds[e.kind], label=e.message[:40]) for e in _events(elapsed) if e.kind in kinds]


def _processes(elapsed: float) -> list[ProcView]:
    def tail(base: float, slope: float, wobble: float = 0.3) -> list[float]:
        return [round(base + slope * i + wobble * math.sin(i / 3), 2) for i in range(60)]

    procs = [ProcView(name="monitor", pid=4100, rss_mb=61.2, cpu=7.5, threads=9, rss_tail=tail(60.8, 0.005))]
    for w in range(4):
        procs.append(
            ProcView(
                name=f"worker-{w}",
                pid=4101 + w,
                rss_mb=round(48.0 + 0.09 * elapsed + w, 1),
                cpu=11.0 + w,
                threads=3,
                growth=round(1.0 + 0.0021 * elapsed, 2),
                slope_mb_h=round(310.0 - 20 * w, 1),
                slope_confidence=0.92,
                rss_tail=tail(24.0 + w, 0.5, 3.0),  # the allocator's steps around the trend
                rss_fit=[round(24.0 + w + 0.5 * i, 2) for i in range(60)],
            )
        )
    return procs


def sample_snapshot(situation: Situation = "running", *, seq: int = 1, elapsed: float = 62.5) -> Snapshot:
    """One deterministic moment of a demo stage (PLANNED calls at 40/s, chaos 40–50 s)."""
    chaos = (40.0, 50.0)
    calls = min(PLANNED, int(elapsed * 38.4))
    errors = 18 + (41 if elapsed > chaos[0] else 0)
    if situation == "topology":
        from soakwatch.tui._sample_nodes import topology_snapshot

        return topology_snapshot(seq=seq, elapsed=elapsed)
    finished = situation in ("finished", "finished_warn")
    states: dict[Situation, StageState] = {
        "running": "RUNNING",
        "failing": "RUNNING",
        "paused": "PAUSED",
        "finished": "FAILED",
        "finished_warn": "PASSED",
        "topology": "RUNNING",
    }
    files, rows = _files(), _snapshot_rows(calls)
    return Snapshot(
        seq=seq,
        stage="demo",
        profile="demo",
        target="soakwatch.demo:run_model",
        run_dir=SAMPLE_RUN_DIR,
        state=states[situation],
        elapsed=elapsed,
        eta=None if finished else max(0.0, (PLANNED - calls) / 38.4),
        planned_calls=PLANNED,
        calls=calls,
        ok=calls - errors - 2,
        errors=errors,
        timeouts=2,
        in_flight=0 if finished or situation == "paused" else 3,
        rate=0.0 if situation == "paused" else 38.9,
        rate_avg=calls / elapsed,
        latency={"p50": 2.81, "p95": 6.43, "p99": 12.9, "max": 61.7},
        latency_run={"p50": 2.84, "p95": 9.12, "p99": 44.3, "max": 61.7},
        error_kinds=_error_kinds(calls),
        series=_series(elapsed, chaos),
        latency_heat=_heat(elapsed, chaos),
        files=files,
        snapshots=rows,
        processes=_processes(elapsed),
        gates=_gates(situation),
        events=_events(elapsed),
        marks=_marks(elapsed),
        output=[
            f"[worker-{i % 4}] call {calls - 40 + i * 5}: "
            + ("WARN slow DAG read 52ms" if i % 3 == 1 else "ERROR StateCorrupted" if i % 7 == 3 else "ok")
            for i in range(8)
        ],
        auto_abort=situation != "failing",
        chaos_actions=[c.name for c in SAMPLE_CHAOS],
        chaos=SAMPLE_CHAOS,
        verdict=VERDICTS.get(situation),
        exit_code=(0 if situation == "finished_warn" else 1) if finished else None,
        reports=[f"{SAMPLE_RUN_DIR}/{name}" for name in ("summary.md", "failures.md", "junit.xml")] if finished else [],
        extra={"tick": TICK},
    )


def _files() -> list[FileView]:
    """The demo's two watched logs: the bounded PRA log and the growing TUL log (over its warning size)."""
    return [
        FileView(
            path="state/pra_log.json", size=10_042, lines=402, growth_lines=402, growth_bytes=10_042, json_ok=True
        ),
        FileView(
            path="state/tul_log.json",
            size=118_300,
            lines=1_512,
            growth_lines=1_512,
            growth_bytes=118_300,
            over_warn=True,
        ),
    ]


def _snapshot_rows(calls: int) -> list[SnapshotRow]:
    """Snapshot Δ rows every 100 calls for the last 500 calls: PRA flat, TUL +100 lines each."""
    return [
        SnapshotRow(
            label=f"final_{c}",
            previous=f"final_{c - 100}" if c else "",
            file=f,
            lines=lines,
            delta=delta,
            calls=c,
            t=c / 38.4,
        )
        for c in range(0, min(calls, PLANNED) + 1, 100)
        if c >= calls - 500
        for f, lines, delta in (("state/pra_log.json", 402, 0), ("state/tul_log.json", 100 + c, 100 if c else 0))
    ]


def _error_kinds(calls: int) -> list[ErrorKindView]:
    return [
        ErrorKindView(kind="EngineOverloaded", count=41 + 6, last_message="chaos: engine overloaded"),
        ErrorKindView(kind="StateCorrupted", count=9, last_message=f"inconsistent state after {calls - 37} calls"),
        ErrorKindView(kind="KeyError", count=3, last_message="'hello world'"),
        ErrorKindView(kind="timeout", count=2, last_message="call exceeded 5.0s"),
    ]


class SampleSource:
    """Serves the given snapshots in order, then keeps the stream open until closed.

    Commands are recorded in :attr:`commands` and answered the way the stage would.
    """

    def __init__(self, snapshots: Sequence[Snapshot]) -> None:
        self._snapshots = list(snapshots)
        self.commands: list[tuple[str, dict[str, Any] | None]] = []
        self._closed = asyncio.Event()

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        for snap in self._snapshots:
            yield snap
        await self._closed.wait()

    async def command(self, name: str, args: dict[str, Any] | None = None) -> str:
        self.commands.append((name, args))
        return f"{name}: ok"

    async def close(self) -> None:
        self._closed.set()
