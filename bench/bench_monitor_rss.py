"""The monitor's own RSS over a 1,000,000-call no-op run (inline isolation, real CLI).

Run: ``python bench/bench_monitor_rss.py [CALLS] [--full-speed] [-v]``. Starts ``soakwatch run``
on a no-op target in a temporary sandbox, then reads the monitor's samples from
``rss/monitor.csv`` in the run directory and prints the growth from the end of warm-up
(imports, threads, the first batches and histogram arrays allocated) to the end of the
run. The issue asks for less than 5 MB.

By default the calls arrive at RATE per second (open model), so a million calls take
about a minute and the run is long enough to tell growth from the working set. At
full speed (``--full-speed``: over a million no-op calls a second here) the whole run
lasts about as long as one warm-up; the RSS then mostly shows the working set of the
latency batches folded on each tick (a few MB per 0.5 s tick at that rate), which is
printed too but is not growth.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CALLS = 1_000_000
WARMUP_S = 5.0
RATE = 20_000
LIMIT_MB = 5.0
TIMEOUT_S = 900


def _command(root: Path, out: Path, calls: int) -> list[str]:
    """The stage this bench runs: no-op calls inline, the monitor sampled every 0.25 s."""
    return [
        sys.executable,
        "-m",
        "soakwatch",
        "run",
        "--target",
        "noop:call",
        "--root",
        str(root),
        "--calls",
        str(calls),
        "--isolation",
        "inline",
        "--no-tui",
        "--out-dir",
        str(out),
        "--set",
        "processes.interval=0.25",
        "--set",
        f"processes.warmup={WARMUP_S}",
        *([] if "--full-speed" in sys.argv else ["--rate", str(RATE)]),
    ]


def main() -> int:
    nums = [a for a in sys.argv[1:] if a.isdigit()]
    calls = int(nums[0]) if nums else CALLS
    with tempfile.TemporaryDirectory(prefix="soakwatch-bench-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "noop.py").write_text("def call(case=None):\n    return None\n")
        out = Path(tmp) / "runs"
        t0 = time.perf_counter()
        res = subprocess.run(
            _command(root, out, calls),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            print(res.stdout, res.stderr)
            return 2
        (run_dir,) = out.iterdir()
        if "-v" in sys.argv:
            print((run_dir / "rss" / "monitor.csv").read_text())
        with (run_dir / "rss" / "monitor.csv").open() as fh:
            rows = [(float(r["t"]), float(r["rss_mb"])) for r in csv.DictReader(fh)]
        with (run_dir / "timeline.csv").open() as fh:
            done = int(list(csv.DictReader(fh))[-1]["calls"])
    warm = next((r for r in rows if r[0] >= WARMUP_S), rows[0])
    last = rows[-1]
    peak = max(v for t, v in rows if t >= warm[0])
    growth = last[1] - warm[1]
    print(f"{done} no-op calls in {wall:.1f}s ({done / wall:,.0f}/s incl. start-up), {len(rows)} monitor samples")
    print(
        f"monitor RSS: first {rows[0][1]:.1f} MB, at warm-up end ({warm[0]:.1f}s) {warm[1]:.1f} MB, "
        f"peak after {peak:.1f} MB, last ({last[0]:.1f}s) {last[1]:.1f} MB"
    )
    print(
        f"monitor RSS growth after warm-up: {growth:+.2f} MB (peak {peak - warm[1]:+.2f} MB; goal < {LIMIT_MB:g} MB)"
        f" -> {'OK' if growth < LIMIT_MB else 'OVER'}"
    )
    return 0 if growth < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
