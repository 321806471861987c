"""Load shapes (``[[shape]]``): the schedule itself, the profile's checks, and a stage with an idle gap.

The must-show stage: 2 s at 20 calls/s, 3 s idle, 2 s at 20 calls/s against a local server that
stamps every request it receives with its own clock. The server must see exactly 40 requests,
a gap of about 3 s with none, then exactly 40 more; soakwatch's summary counts the same 80; its
timeline plans 0 calls/s in the gap, where no call finishes, and 20 calls/s again after it.
"""

from __future__ import annotations

import csv
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.profile import validate_profile
from soakwatch.targets.shape import NEVER, ShapedArrivals, planned_arrivals
from tests.helpers import only_run_dir, run_cli

NS = 1_000_000_000


def test_segments_plan_exact_counts_at_their_rate() -> None:
    arr = ShapedArrivals([(2.0, 20.0, 20.0), (3.0, 0.0, 0.0), (2.0, 20.0, 20.0)], 0.5)
    arr.start(0)
    assert arr.total == 80
    assert [arr.due(i) for i in (0, 1, 39)] == [0, NS // 20, 39 * NS // 20]
    assert arr.due(40) == 5 * NS  # the first call after the gap is due when the gap ends
    assert arr.due(79) == 5 * NS + 39 * NS // 20 and arr.due(80) == NEVER
    assert arr.due_by(2 * NS) == 40 and arr.due_by(5 * NS - 1) == 40 and arr.due_by(5 * NS) == 41
    assert arr.rate_at(NS) == 20.0 and arr.rate_at(3 * NS) == 0.0 and arr.rate_at(8 * NS) == 0.0
    assert arr.late_count(0, 2 * NS) == 31  # due by 1.5 s (now less the grace): 0..30, as for a fixed rate


def test_a_ramp_plans_its_area_and_pauses_shift_it() -> None:
    assert planned_arrivals((10.0, 0.0, 20.0)) == 100 and planned_arrivals((0.5, 3.0, 3.0)) == 2
    arr = ShapedArrivals([(10.0, 0.0, 20.0)], 0.5)
    arr.start(0)
    dues = [arr.due(i) for i in range(100)]
    assert dues == sorted(dues) and dues[-1] < 10 * NS
    assert arr.due(25) == pytest.approx(5 * NS, abs=1000)  # N(5 s) = 0 * 5 + 1 * 25 = 25
    assert arr.rate_at(5 * NS) == pytest.approx(10.0)
    arr.pause(6 * NS)
    arr.resume(9 * NS)
    assert arr.due(25) == pytest.approx(8 * NS, abs=1000)  # the 3 s pause shifts the schedule, as for a fixed rate
    assert arr.due(99) > 12 * NS and arr.rate_at(9 * NS) == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"rate": 5}, "not both"),
        ({"isolation": "process", "target": "tests.targets.sw_targets:ok"}, "isolation = 'inline'"),
        ({"shape": [{"rate": 0, "for": "1s"}]}, "plans no call"),
        ({"shape": [{"rate": "fast", "for": "1s"}]}, "expected calls/s"),
    ],
)
def test_bad_shapes_are_usage_errors(fields: dict[str, object], needle: str) -> None:
    data: dict[str, object] = {"name": "s", "target": "http://127.0.0.1:9/x", "shape": [{"rate": 5, "for": "2s"}]}
    with pytest.raises(UsageError, match=needle):
        validate_profile({**data, **fields}, "p.toml")


def test_the_shape_sets_the_duration() -> None:
    p = validate_profile({"name": "s", "target": "http://127.0.0.1:9/x", "shape": [{"rate": 5, "for": "2s"}] * 3}, "p")
    assert p.duration == 6.0 and p.open_model


class _Stamps:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: list[float] = []


@contextmanager
def stamping_server() -> Iterator[tuple[int, _Stamps]]:
    stamps = _Stamps()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with stamps.lock:
                stamps.times.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], stamps
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_an_idle_gap_sends_nothing_then_the_planned_rate_again(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with stamping_server() as (port, stamps):
        profile = tmp_path / "shape.toml"
        profile.write_text(
            f'name = "shape"\ntarget = "http://127.0.0.1:{port}/x"\nconcurrency = 4\ntick = "250ms"\n'
            '[[shape]]\nrate = 20\nfor = "2s"\n[[shape]]\nrate = 0\nfor = "3s"\n[[shape]]\nrate = 20\nfor = "2s"\n'
        )
        r = run_cli(["run", "--profile", str(profile), "--no-tui", "--out-dir", str(out)], cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    times = stamps.times
    assert len(times) == 80
    gaps = [b - a for a, b in itertools.pairwise(times)]
    widest = max(range(len(gaps)), key=gaps.__getitem__)
    assert widest == 39 and gaps[widest] > 2.5  # 40 requests, the idle gap (3.05 s planned), 40 more
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == 80 and summary["missed_arrivals"] == 0
    with (run_dir / "timeline.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    planned = [float(row["planned_rate"]) for row in rows]
    calls = [int(float(row["calls"])) for row in rows]
    assert calls[-1] == 80
    idle = [i for i in range(1, len(rows)) if planned[i] == 0 and planned[i - 1] == 0 and calls[i] < 80]
    assert len(idle) >= 8  # about 3 s of 250 ms ticks planned at 0 ...
    assert all(calls[i] == calls[i - 1] == 40 for i in idle)  # ... in which no call finishes
    after = [i for i in range(idle[-1], len(rows)) if planned[i] > 0]
    assert after and all(planned[i] == pytest.approx(20.0) for i in after)  # then the planned rate again
    assert 20.0 in planned[: idle[0]]
    assert "planned_rate" in (run_dir / "report.html").read_text()


def test_the_rate_chart_draws_the_planned_rate_behind_the_rate() -> None:
    from rich.console import Console

    from soakwatch.tui._braille import LineChart

    planned = [20.0] * 8 + [0.0] * 12 + [20.0] * 8
    rate = [20.0] * 8 + [0.0] * 12 + [0.0] * 8  # the target stopped answering after the gap
    console = Console(width=30, color_system="truecolor", force_terminal=True)
    chart = LineChart(rate, height=6, overlay=planned, overlay_style="blue", time_axis=False)
    segments = list(console.render(chart, console.options))
    by_color: dict[str, str] = {}
    for seg in segments:
        if seg.style is not None and seg.style.color is not None:
            by_color[seg.style.color.name] = by_color.get(seg.style.color.name, "") + seg.text
    assert by_color["blue"].strip() and by_color["green"].strip()  # the plan shows where the rate leaves it
    assert "20" in "".join(seg.text for seg in segments)  # one scale for both
