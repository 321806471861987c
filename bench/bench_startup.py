"""Start-up cost: wall time of `soakwatch --help` and `soakwatch profiles` against `python -c pass`.

Goal: `--help` under 150 ms more than a bare interpreter. Median of several runs each.

    python bench/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    base = wall([sys.executable, "-c", "pass"], args.runs)
    helpt = wall([sys.executable, "-m", "soakwatch", "--help"], args.runs)
    prof = wall([sys.executable, "-m", "soakwatch", "profiles"], args.runs)
    heavy = wall([sys.executable, "-c", "import textual.app, httpx, pydantic"], args.runs)
    print(f"python -c pass            {base:7.1f} ms")
    print(f"soakwatch --help          {helpt:7.1f} ms   (+{helpt - base:.1f} ms, goal < +150 ms)")
    print(f"soakwatch profiles        {prof:7.1f} ms   (+{prof - base:.1f} ms)")
    print(f"import textual+httpx+pydantic {heavy:7.1f} ms (for scale)")


if __name__ == "__main__":
    main()
