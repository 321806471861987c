"""The memory chart's slope line: the fitted RSS trend drawn over the points it was fitted to.

A real child process grows its memory at a steady rate and logs what it holds; the
processes collector watches it. The line soakwatch sends (``rss_fit``) must rise at
exactly the slope it reports, lie on the RSS points, and that slope must be the child's
own growth rate; the memory panel draws it in its own colour.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console, RenderableType
from rich.style import Style

from soakwatch.collectors.processes import ProcessCollector
from soakwatch.core.snapshot import ProcView
from soakwatch.tui._braille import LineChart
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets.memory import render_memory
from tests.collectors_ctx import close_ctx, make_ctx, wait_for

#: grows 256 KB every 20 ms; bounded to 500 steps (10 s) and stops early when told
LEAKER = """
import os, sys, time
hold = []
log = open(sys.argv[1], "w")
t0 = time.monotonic()
for _ in range(500):
    hold.append(bytearray(b"Z") * (256 * 1024))
    log.write(f"{time.monotonic() - t0:.4f} {len(hold) / 4:.2f}\\n")
    log.flush()
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.02)
"""
#: RSS points the line is checked on
POINTS = 15


def _child_rate_mb_h(log: Path) -> float:
    rows = [tuple(map(float, line.split())) for line in log.read_text().splitlines() if line.count(" ") == 1]
    (t0, mb0), (t1, mb1) = rows[0], rows[-1]
    return (mb1 - mb0) / (t1 - t0) * 3600


def test_the_slope_line_rises_at_the_reported_slope_over_a_real_leak(tmp_path: Path) -> None:
    script, log, stop, pid_file = (tmp_path / n for n in ("leaker.py", "held.log", "stop", "leaker.pid"))
    script.write_text(LEAKER)
    child = subprocess.Popen([sys.executable, str(script), str(log), str(stop)])
    pid_file.write_text(str(child.pid))
    ctx = make_ctx(
        tmp_path, processes={"interval": 0.1, "warmup": 0.3, "watch": [{"name": "leaker", "pid_file": str(pid_file)}]}
    )
    coll = ProcessCollector(ctx.profile.processes)
    coll.prepare(ctx)
    coll.start()
    try:

        def leaker() -> ProcView | None:
            procs = [p for p in coll.view()["processes"] if p.name == "leaker"]
            return procs[0] if procs and len(procs[0].rss_fit) >= POINTS else None

        wait_for(leaker, timeout=20, what=f"{POINTS} RSS points with a fitted trend")
        proc = leaker()
        assert proc is not None and proc.slope_mb_h is not None
    finally:
        stop.touch()
        child.wait(timeout=20)
        coll.stop()
        close_ctx(ctx)
    assert len(proc.rss_fit) == len(proc.rss_tail)
    with (ctx.run_dir / "rss" / "leaker.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    # the tail is a run of the collector's samples as it wrote them to its csv (it went on sampling after)
    rss, n = [float(r["rss_mb"]) for r in rows], len(proc.rss_tail)
    at = [k for k in range(len(rss) - n + 1) if rss[k : k + n] == pytest.approx(proc.rss_tail, abs=0.001)]
    assert at, (rss, proc.rss_tail)
    times = [float(r["t"]) for r in rows[at[-1] : at[-1] + n]]
    rise = (proc.rss_fit[-1] - proc.rss_fit[0]) / (times[-1] - times[0]) * 3600
    assert rise == pytest.approx(proc.slope_mb_h, rel=0.01)  # the line is the reported slope (times rounded to ms)
    spread = max(proc.rss_tail) - min(proc.rss_tail)
    assert max(abs(f - v) for f, v in zip(proc.rss_fit, proc.rss_tail, strict=True)) < 0.25 * spread
    assert proc.slope_mb_h == pytest.approx(_child_rate_mb_h(log), rel=0.35)  # the child's own growth


def _styled(renderable: RenderableType, width: int) -> list[tuple[str, Style | None]]:
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    return [(s.text, s.style) for s in console.render(renderable, console.options.update(width=width))]


def test_the_memory_panel_draws_the_slope_line_in_its_own_colour() -> None:
    snap = sample_snapshot("running")
    grower = max(snap.processes, key=lambda p: p.slope_mb_h or 0.0)
    assert grower.rss_fit and len(grower.rss_fit) == len(grower.rss_tail)
    segs = _styled(render_memory(snap, height=16, width=90), 90)
    line = Style.parse("yellow")
    assert any(style == line and any("\u2800" < ch <= "\u28ff" for ch in text) for text, style in segs)
    # without a fit, the chart has no second colour
    bare = LineChart(grower.rss_tail, height=6, style="magenta")
    assert not any(style == line for _, style in _styled(bare, 60))
