"""The latency heatmap's data: every call that ended is in one bucket of one tick, in the right bucket.

A real detached stage runs a target that sleeps 50 ms a call and counts its own calls in
files; the test pauses it and compares the snapshot's per-tick bucket counts with the
target's count, call for call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from soakwatch.config.constants import LATENCY_HEAT_EDGES_MS
from soakwatch.control.client import ControlClient
from soakwatch.core.histogram import LatencyHistogram
from soakwatch.core.snapshot import Snapshot
from tests.detach_harness import detached_fixture, registry_fixture, until  # noqa: F401 (fixtures)

#: calls the target makes before the stage is paused (20/s: about 2 s)
CALLS = 40
#: the bucket from 50 ms (edges are lower bounds of the next bucket)
FROM_50MS = LATENCY_HEAT_EDGES_MS.index(50) + 1


def _target_count(root: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in (root / "counts").glob("slow-*.txt"))


def test_heat_rows_hold_every_call_the_target_made_in_its_latency_bucket(
    detached: Callable[..., tuple[Path, int]], sandbox: Path, tmp_path: Path
) -> None:
    args = [
        "run", "--target", "sw_targets:slow_counted", "--root", str(sandbox), "--duration", "60s", "--rate", "20",
        "--isolation", "inline", "--out-dir", str(tmp_path / "runs"), "--set", "tick=0.2", "--detach",
    ]  # fmt: skip
    run_dir, _ = detached(args=args)
    (sandbox / "counts").mkdir(exist_ok=True)
    until(lambda: _target_count(sandbox) >= CALLS, f"{CALLS} calls", timeout=60)
    with ControlClient(run_dir) as client:
        client.command("pause")
        client.request("subscribe")

        def settled() -> Snapshot | None:  # paused, nothing in flight, and the last calls folded in
            snap = client.next_snapshot()
            ok = snap is not None and snap.state == "PAUSED" and snap.in_flight == 0
            return snap if ok and snap is not None and snap.calls == _target_count(sandbox) else None

        snap = until(settled, "a paused snapshot with every call folded in")
        client.command("abort")
    heat = snap.latency_heat
    assert 0 < len(heat) == len(snap.series["rate"])  # one row a tick, aligned with the charts' points
    assert sum(map(sum, heat)) == snap.calls == _target_count(sandbox)  # none lost, none twice
    per_bucket = np.zeros(len(LATENCY_HEAT_EDGES_MS) + 1, dtype=np.int64)
    for row in heat:
        per_bucket[: len(row)] += row
    assert per_bucket[:FROM_50MS].sum() == 0  # a call that sleeps 50 ms never ends sooner


def test_a_heat_row_puts_each_latency_in_its_bucket() -> None:
    hist = LatencyHistogram()
    us = np.array([50, 150, 999, 1500, 4_000, 4_000, 60_000, 12_000_000], dtype=np.int64)
    dense = hist.bin(us)
    idx = np.flatnonzero(dense)
    row = hist.heat_row(idx.astype(np.int32), dense[idx].astype(np.int32))
    # buckets: <0.1 0.1-0.2 0.2-0.5 0.5-1 1-2 2-5 5-10 10-20 20-50 50-100 ... ≥10 s
    assert row == [1, 1, 0, 1, 1, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]
