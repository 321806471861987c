"""Runner throughput on a no-op target, side by side in one run.

(a) a bare loop that times each call with perf_counter_ns, (b) soakwatch inline at
concurrency 1, (c) soakwatch with process isolation and two workers, (d) Locust running
the same function from a custom User, in one process and with ``--processes 2``.
Prints calls/s and the ratios the goals are stated in. Bounded: each leg runs a fixed
number of calls or a few seconds.

    python bench/bench_runner.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import HERE, run_stage
from bench_targets import noop


def bare_loop(n: int) -> float:
    pc = time.perf_counter_ns
    lat: list[int] = []
    add = lat.append
    t_start = pc()
    for _ in range(n):
        t0 = pc()
        noop()
        add(pc() - t0)
    return n / ((pc() - t_start) / 1e9)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def locust(seconds: float, processes: int) -> float | None:
    exe = shutil.which("locust", path=str(Path(sys.executable).parent))
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "stats")
        cmd = [
            exe,
            "-f",
            str(HERE / "locustfile.py"),
            "--headless",
            "-u",
            str(processes),
            "-r",
            "100",
            "-t",
            f"{int(seconds)}s",
            "--only-summary",
            "--csv",
            prefix,
            "--loglevel",
            "ERROR",
        ]
        if processes > 1:
            port = str(_free_port())  # the default port may belong to another test on the box
            cmd += ["--processes", str(processes), "--master-bind-host", "127.0.0.1"]
            cmd += ["--master-bind-port", port, "--master-host", "127.0.0.1", "--master-port", port]
        subprocess.run(cmd, cwd=HERE, capture_output=True, timeout=seconds + 60)
        with open(prefix + "_stats.csv") as fh:
            for row in csv.DictReader(fh):
                if row["Name"] == "Aggregated":
                    return float(row["Requests/s"])
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    n = 2_000_000
    bare = max(bare_loop(n) for _ in range(3))
    inline = run_stage(
        [
            "--target",
            "bench_targets:noop",
            "--root",
            str(HERE),
            "--duration",
            f"{args.seconds}s",
            "--isolation",
            "inline",
        ]
    )["rate_avg"]
    proc2 = run_stage(
        [
            "--target",
            "bench_targets:noop",
            "--root",
            str(HERE),
            "--duration",
            f"{args.seconds}s",
            "--isolation",
            "process",
            "--concurrency",
            "2",
        ]
    )["rate_avg"]
    loc1 = locust(args.seconds, 1)
    loc2 = locust(args.seconds, 2)
    rows = [
        ("bare timed loop", bare),
        ("soakwatch inline, concurrency 1", inline),
        ("soakwatch process, 2 workers", proc2),
        ("locust, 1 process", loc1),
        ("locust --processes 2", loc2),
    ]
    print(f"{'leg':<34} {'calls/s':>14}")
    for name, v in rows:
        print(f"{name:<34} {v:>14,.0f}" if v else f"{name:<34} {'(locust not installed)':>14}")
    print()
    print(f"inline / bare loop            {inline / bare:6.2f}   (goal >= 0.30)")
    if loc1:
        print(f"inline / locust 1 process     {inline / loc1:6.1f}x")
    if loc2:
        print(f"process x2 / locust x2        {proc2 / loc2:6.1f}x  (goal >= 2)")


if __name__ == "__main__":
    main()
