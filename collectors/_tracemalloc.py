"""Top allocation sites of an inline target, with tracemalloc (``processes.tracemalloc = true``).

Only meaningful when the target runs in the monitor's process (``isolation = "inline"``);
tracemalloc slows every allocation, so it is opt-in. A baseline snapshot is taken at
the end of warm-up; every :data:`WRITE_EVERY_S` seconds and at the end the growth per
source line since then is written to ``tracemalloc.json`` in the run dir (so a killed
run still has it), and the summary shows the top sites.
"""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

__all__ = ["TOP_SITES", "WRITE_EVERY_S", "AllocationTracer"]

#: frames kept per allocation (1: the allocating line; enough for "top sites")
FRAMES = 1
TOP_SITES = 15
WRITE_EVERY_S = 30.0


class AllocationTracer:
    """tracemalloc from start to stop, with the growth since warm-up written to the run dir."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "tracemalloc.json"
        self._baseline: tracemalloc.Snapshot | None = None
        self._base_t = 0.0
        self._last_write = 0.0
        self._started_here = False

    def start(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
            self._started_here = True

    def _snapshot(self) -> tracemalloc.Snapshot:
        return tracemalloc.take_snapshot().filter_traces(
            [
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
            ]
        )

    def maybe_write(self, t: float, warmup: float) -> None:
        if not tracemalloc.is_tracing():
            return
        if self._baseline is None:
            if t >= warmup:
                self._baseline = self._snapshot()
                self._base_t = self._last_write = t
            return
        if t - self._last_write >= WRITE_EVERY_S:
            self.write(t)

    def write(self, t: float) -> None:
        if self._baseline is None or not tracemalloc.is_tracing():
            return
        stats = self._snapshot().compare_to(self._baseline, "lineno")
        top = [
            {
                "site": f"{s.traceback[0].filename}:{s.traceback[0].lineno}",
                "size_diff_kb": round(s.size_diff / 1024, 1),
                "size_kb": round(s.size / 1024, 1),
                "count_diff": s.count_diff,
            }
            for s in sorted(stats, key=lambda s: -s.size_diff)[:TOP_SITES]
        ]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"since_t": self._base_t, "t": round(t, 3), "top": top}, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
        self._last_write = t

    def stop(self, t: float) -> None:
        self.write(t)  # nothing when the run ended before warm-up did: no baseline to compare with
        if self._started_here:
            tracemalloc.stop()
