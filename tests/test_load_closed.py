"""Closed model: ``concurrency`` calls really in flight, whatever the call count, and results
recorded within a tick of each call's end; counted by the server (or the command) itself."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from soakwatch.config.http import HttpConfig
from soakwatch.config.profile import load_profile
from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.stage import Stage
from soakwatch.targets.cmd import CmdRunner
from soakwatch.targets.http import HttpRunner
from soakwatch.targets.runner import Plan
from soakwatch.targets.spec import parse_target
from tests.load_helpers import slow_server

DELAY = 0.2


def _http(url: str, plan: Plan) -> tuple[HttpRunner, Recorder]:
    rec = Recorder(None, EventLog(None), open_model=plan.rate is not None)
    runner = HttpRunner(plan, rec, parse_target(url), None, None, config=HttpConfig())
    runner.prepare()
    return runner, rec


def test_http_closed_model_runs_every_slot_at_once(tmp_path: Path) -> None:
    with slow_server(tmp_path, DELAY) as srv:
        runner, rec = _http(srv.url, Plan(calls=24, duration=None, concurrency=8, timeout=10))
        t0 = time.monotonic()
        runner.run()
        took = time.monotonic() - t0
        rec.tick()
        stats = srv.stats()
    ideal = 24 / 8 * DELAY
    assert rec.calls == stats["answered"] == 24 and rec.ok == 24
    assert stats["max_in_flight"] == 8
    assert took < 3 * ideal, f"{took:.2f}s for 24 calls at c=8 of {DELAY}s (ideal {ideal:.2f}s)"


def test_http_hundred_slots_reach_the_server_together(tmp_path: Path) -> None:
    # 0.5 s answers: on a busy 2-core machine, opening 100 connections can take longer than 0.2 s
    with slow_server(tmp_path, 0.5) as srv:
        runner, rec = _http(srv.url, Plan(calls=100, duration=None, concurrency=100, timeout=20))
        runner.run()
        rec.tick()
        stats = srv.stats()
    assert rec.calls == stats["answered"] == 100 and rec.ok == 100
    assert stats["max_in_flight"] >= 90, stats


def test_timeline_has_calls_in_its_first_rows(tmp_path: Path) -> None:
    with slow_server(tmp_path, DELAY) as srv:
        prof = {"target": srv.url, "calls": 80, "concurrency": 8, "tick": 0.5, "timeout": 10}
        stage = Stage(load_profile(None, prof), out_dir=tmp_path / "runs")
        run_dir = stage.prepare()
        assert stage.run() == 0
        answered = srv.stats()["answered"]
    with (run_dir / "timeline.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert int(rows[-1]["calls"]) == answered == 80
    # the calls answered in the first second are in the first rows (ticks at 0.5 s and 1 s)
    assert int(rows[1]["calls"]) >= 8, rows[:3]
    for row in rows[:-1]:
        t = float(row["t"])
        # every row holds the calls answered a tick before it (8 slots in step, 8 calls per 0.2 s;
        # a tick of slack and one more for the client's start-up)
        assert int(row["calls"]) >= min(80, 8 * int((t - 1.0) / DELAY)), (t, row["calls"])


def test_command_closed_model_runs_every_slot_at_once(tmp_path: Path) -> None:
    log = tmp_path / "spans.txt"
    script = tmp_path / "work.py"
    script.write_text(
        "import sys, time\n"
        "t0 = time.time(); time.sleep(0.3); t1 = time.time()\n"
        "with open(sys.argv[1], 'a') as fh: fh.write(f'{t0} {t1}\\n')\n"
    )
    rec = Recorder(None, EventLog(None))
    plan = Plan(calls=24, duration=None, concurrency=8, timeout=20)
    runner = CmdRunner(plan, rec, parse_target(f"cmd:{sys.executable} {script} {log}"), tmp_path, None)
    runner.prepare()
    runner.run()
    rec.tick()
    spans = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    assert rec.calls == len(spans) == 24 and rec.ok == 24
    # the commands' own clock: at the start of the latest first call, all 8 first calls were running
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    depth = peak = 0
    for _, d in edges:
        depth += d
        peak = max(peak, depth)
    assert peak == 8, f"at most {peak} commands ran at once"
