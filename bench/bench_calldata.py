"""Cost of ``soakwatch.phase`` / ``soakwatch.record`` per call, against a target without them.

(a) the calls alone, in a loop with a slot buffer current (what a worker does), in
ns per call; (b) whole stages of the same number of calls, inline and with process
isolation, on a no-op target and on targets that time one phase and/or record one
value per call: calls/s and the extra µs per call. Bounded: a fixed number of calls.

    python bench/bench_calldata.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _common import run_stage
from bench_targets import noop, with_both, with_phase, with_record

from soakwatch._calldata import open_slot

#: runs of each stage leg; the best is shown (other work on the machine only slows a run down)
REPEATS = 3


def per_call_ns(fn: Callable[[], None], n: int) -> float:
    buf = open_slot()
    pc = time.perf_counter_ns
    t0 = pc()
    for i in range(n):
        buf.index = i
        buf.start = t0
        fn()
        if i % 8192 == 0:
            buf.take()  # a runner hands over once per chunk
    return (pc() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000)
    args = ap.parse_args()
    n = args.calls
    print(f"(a) the calls alone, {n} calls each")
    base = min(per_call_ns(noop, n) for _ in range(REPEATS))
    for name, fn in (("noop", noop), ("phase", with_phase), ("record", with_record), ("phase+record", with_both)):
        ns = min(per_call_ns(fn, n) for _ in range(REPEATS))
        print(f"  {name:<13} {ns:7.0f} ns/call  (+{ns - base:5.0f} ns over noop)")
    print(f"(b) whole stages, {n} calls, concurrency 1, best of {REPEATS} (the machine is shared)")
    for iso in ("inline", "process"):
        rates: dict[str, float] = {}
        for target in ("noop", "with_phase", "with_record", "with_both"):
            for _ in range(REPEATS):
                argv = ["--target", f"bench_targets:{target}", "--calls", str(n), "--set", f"isolation='{iso}'"]
                s = run_stage(argv)
                rates[target] = max(rates.get(target, 0.0), s["calls"] / max(s["duration_s"], 1e-9))
        for target, rate in rates.items():
            extra_us = (1e6 / rate - 1e6 / rates["noop"]) if rate else float("nan")
            print(f"  {iso:<7} {target:<12} {rate:12,.0f} calls/s  ({extra_us:+.2f} µs/call vs noop)")


if __name__ == "__main__":
    main()
