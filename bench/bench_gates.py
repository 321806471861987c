"""Gate evaluation cost per tick at 10 k calls and at 10 M calls, measured in one run.

A real Recorder and the real GateEvaluator with one gate of every kind, driven by a
simulated clock (0.5 s ticks): 200 ticks timed at 50 calls per tick up to 10 k calls,
then 5 000 calls per tick (synthesised latency arrays, never 10 M real calls) up to
10 M, then 200 ticks timed again at 50 calls per tick, so only the history differs.
Only the evaluator's ``tick`` is timed. Flat means the 10 M figure is close to the 10 k
figure: whole-run statistics are running aggregates and every window is bounded.

    .venv/bin/python bench/bench_gates.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from soakwatch.config.profile import Profile
from soakwatch.core.events import EventLog
from soakwatch.core.plugins import StageContext
from soakwatch.core.recorder import ErrorRecord, Recorder, ResultBatch
from soakwatch.gates import build_gates
from soakwatch.gates.evaluator import GateEvaluator

TICK = 0.5
SMALL_RATE, BIG_RATE = 50, 5000
SMALL_CALLS, BIG_CALLS = 10_000, 10_000_000
MEASURED_TICKS = 200
#: ticks that refill the longest sliding window (60 s) before the 10 M measurement
REFILL_TICKS = 130

GATES = [
    {"name": "err60s", "metric": "error_ratio", "condition": "< 0.05", "window": "60s"},
    {"name": "err1k", "metric": "error_ratio", "condition": "< 0.05", "window": "1000 calls"},
    {"name": "err_run", "metric": "error_ratio", "condition": "< 0.05", "window": "run"},
    {"name": "p95", "metric": "latency", "condition": "p95 < 500", "window": "60s"},
    {"name": "p99_run", "metric": "latency", "condition": "p99 < 500", "window": "run"},
    {"name": "slope", "metric": "rss_slope[target]", "condition": "< 50"},
    {"name": "size", "metric": "size_kb[state/pra_log.json]", "condition": "max < 1e9"},
    {"name": "lag", "metric": "head[node1] - height[node1]", "condition": "p95 < 10", "window": "60s"},
    {"name": "lag_run", "metric": "head[node1] - height[node1]", "condition": "p99 < 10", "window": "run"},
    {"name": "checks", "metric": "failed[node1] / checks[node1]", "condition": "< 0.1", "window": "60s"},
    {"name": "mono", "metric": "height[node1]", "condition": "monotonic"},
    {"name": "stall", "metric": "height[node1]", "condition": "stall < 60s"},
    {"name": "flag", "metric": "ok[node1]", "condition": "always"},
    {"name": "dag", "metric": "files_changed", "condition": "unchanged"},
    {"name": "burst", "metric": "error_kinds", "condition": "burst(50) < 3", "window": "10s"},
    {"name": "alive", "metric": "processes", "condition": "alive"},
]


class SimClock(EventLog):
    def __init__(self) -> None:
        super().__init__(None)
        self.now = 0.0

    def elapsed(self) -> float:
        return self.now


def _profile() -> Profile:
    """A profile with every rule kind and the series they read (a watched file, a node's reports)."""
    return Profile.model_validate(
        {
            "name": "bench",
            "calls": BIG_CALLS,
            "watch": {"files": ["state/pra_log.json"], "unchanged": ["dag/**"]},
            "reports": [
                {
                    "name": "node1",
                    "path": "r",
                    "fields": {"height": "h", "head": "x", "ok": "o", "failed": "f", "checks": "c"},
                }
            ],
            "gates": GATES,
        }
    )


def main() -> None:
    profile = _profile()
    clock = SimClock()
    rec = Recorder(None, clock)
    plugin = build_gates(profile)
    assert isinstance(plugin, GateEvaluator)
    ctx = StageContext(profile, Path("."), Path("."), rec, clock, dict, 0, lambda g, r: None, lambda: rec.calls)
    plugin.prepare(ctx)
    plugin.start()
    rng = np.random.default_rng(1)
    n_tick = 0

    def step(rate: int, timed: list[float] | None) -> None:
        nonlocal n_tick
        n_tick += 1
        clock.now += TICK
        lat = (rng.lognormal(0.0, 0.5, rate) * 2_000_000).astype(np.int64)
        errs = [ErrorRecord("EngineError", "x", i) for i in range(rate // 100)]
        rec.add(ResultBatch(lat, errs))
        h = float(n_tick)
        for name, v in (
            ("rss_slope[target]", 3.0),
            ("size_kb[state/pra_log.json]", float(n_tick % 200)),
            ("head[node1]", h + (n_tick % 7)),
            ("height[node1]", h),
            ("failed[node1]", float(n_tick // 50)),
            ("checks[node1]", float(n_tick * 10)),
            ("ok[node1]", 1.0),
            ("files_changed", 0.0),
        ):
            rec.set(name, v)
        rec.tick()
        t0 = time.perf_counter()
        plugin.tick(rec.last_tick_t)
        if timed is not None:
            timed.append(time.perf_counter() - t0)

    small: list[float] = []
    while rec.calls < SMALL_CALLS - SMALL_RATE * MEASURED_TICKS:
        step(SMALL_RATE, None)
    while rec.calls < SMALL_CALLS:
        step(SMALL_RATE, small)
    at_small = rec.calls
    while rec.calls < BIG_CALLS:
        step(BIG_RATE, None)
    # back to the measuring rate, so only the length of the history differs: refill the
    # sliding windows (60 s = 120 ticks), then time the same number of ticks as at 10 k
    for _ in range(REFILL_TICKS):
        step(SMALL_RATE, None)
    big: list[float] = []
    for _ in range(MEASURED_TICKS):
        step(SMALL_RATE, big)
    a, b = statistics.median(small) * 1e6, statistics.median(big) * 1e6
    print(f"gates: {len(GATES)} (every rule kind), tick {TICK}s simulated, {n_tick} ticks, {clock.now / 3600:.1f} h")
    print(f"per-tick evaluation at {at_small:>10,} calls: median {a:8.1f} µs  (p90 {_p90(small):8.1f} µs)")
    print(f"per-tick evaluation at {rec.calls:>10,} calls: median {b:8.1f} µs  (p90 {_p90(big):8.1f} µs)")
    print(f"ratio 10M / 10k: {b / a:.2f}")


def _p90(xs: list[float]) -> float:
    return sorted(xs)[int(0.9 * len(xs))] * 1e6


if __name__ == "__main__":
    main()
