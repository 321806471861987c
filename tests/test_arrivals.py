"""Open model (``--rate``): the schedule the server sees, missed arrivals, pause; counted by the server."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.profile import load_profile
from soakwatch.stage import Stage
from soakwatch.targets.schedule import MISSED, Arrivals
from tests.helpers import Running, counted
from tests.load_helpers import SlowServer, slow_server, wait_for

TICK = 0.5


def _stage(tmp: Path, url: str, **over: Any) -> Stage:
    prof: dict[str, Any] = {"target": url, "tick": TICK, "timeout": 10, **over}
    return Stage(load_profile(None, prof), out_dir=tmp / "runs")


def _summary(run_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return out


def _timeline(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "timeline.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _busiest_tick(srv: SlowServer) -> int:
    """The most requests the server received in any window of one tick."""
    times = sorted(t for t, _, _ in srv.answers())
    most, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - TICK:
            j += 1
        most = max(most, i - j + 1)
    return most


def test_schedule_moves_by_the_pause_and_counts_late_arrivals() -> None:
    arr = Arrivals(rate=10, grace_s=0.5)  # one arrival every 100 ms
    arr.start(0)
    assert [arr.due(i) for i in range(3)] == [0, 100_000_000, 200_000_000]
    assert arr.due_by(250_000_000) == 3
    arr.pause(250_000_000)
    assert arr.due_by(5_000_000_000) == 3  # nothing falls due while paused
    arr.resume(2_250_000_000)
    assert arr.due(3) == 2_300_000_000 and arr.due_by(2_300_000_000) == 4
    assert arr.check(3, 2_300_000_000 + 500_000_000) == (arr.due(3), 0)  # within the grace: sent late
    assert arr.check(3, 2_300_000_000 + 500_000_001) == (MISSED, 0)
    assert arr.late_count(3, 2_300_000_000 + 1_000_000_000) == 6  # due 2.3 .. 2.8 s are all past the grace
    for i in range(3, 9):
        arr.note_missed(i)
    assert arr.missed_between(2_300_000_000, 2_899_999_999) == 6 and arr.missed_between(0, 2_000_000_000) == 0
    arr.forget_before(10**12)
    assert arr.missed_between(0, 10**12) == 0


def test_missed_arrivals_are_planned_minus_started(tmp_path: Path) -> None:
    # 4 slots at 0.2 s a call serve 20 calls/s; 100/s are planned: most arrivals find no free slot
    with slow_server(tmp_path, delay=0.2) as srv:
        stage = _stage(tmp_path, srv.url, calls=300, rate=100, concurrency=4)
        run_dir = stage.prepare()
        code = stage.run()
        answered = srv.stats()["answered"]
        sent = len(srv.answers())
    summary = _summary(run_dir)
    missed = summary["missed_arrivals"]
    assert code == 0 and summary["calls"] == answered == sent
    assert missed == 300 - answered and missed > 150
    assert f"{missed} of 300 arrivals missed" in summary["verdict"], summary["verdict"]
    assert summary["verdict"].startswith("PASSED")
    assert int(_timeline(run_dir)[-1]["missed_arrivals"]) == missed
    # an arrival that was sent waited at most the grace (a tick) for its slot
    sched, lat = summary["latency_scheduled"], summary["latency"]
    assert sched["max"] <= lat["max"] + TICK * 1000 + 50, (sched, lat)


def test_a_gate_on_missed_arrivals_fails_the_stage(tmp_path: Path) -> None:
    with slow_server(tmp_path, delay=0.2) as srv:
        gate = {"name": "no missed arrivals", "metric": "missed_arrivals", "condition": "last == 0"}
        stage = _stage(tmp_path, srv.url, calls=100, rate=100, concurrency=2, gates=[gate])
        run_dir = stage.prepare()
        code = stage.run()
        answered = srv.stats()["answered"]
    summary = _summary(run_dir)
    assert code == 1 and summary["state"] == "FAILED"
    assert summary["missed_arrivals"] == 100 - answered > 0


def test_pause_moves_the_schedule_without_a_burst(tmp_path: Path) -> None:
    rate = 40
    with slow_server(tmp_path, delay=0.05) as srv:
        run = Running(_stage(tmp_path, srv.url, calls=160, rate=rate, concurrency=16))
        stage = run.stage
        wait_for(lambda: srv.stats()["answered"] >= 40, 30, "a second of calls")
        stage.command("pause", source="test")
        paused_at = time.monotonic()
        wait_for(lambda: time.monotonic() - paused_at >= 5, 10, "five seconds of pause")
        stage.command("resume", source="test")
        assert run.join() == 0
        answered = srv.stats()["answered"]
    summary = _summary(run.run_dir)
    busiest = _busiest_tick(srv)
    assert busiest <= 1.3 * rate * TICK, f"{busiest} requests in one tick at {rate}/s"
    # paused time is not latency: from the scheduled start, no call waited more than a tick
    sched, lat = summary["latency_scheduled"], summary["latency"]
    assert sched["max"] <= lat["max"] + TICK * 1000, (sched, lat)
    assert answered == summary["calls"] == 160 and summary["missed_arrivals"] == 0
    assert summary["verdict"] == "PASSED"


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_python_target_missed_arrivals_add_up(tmp_path: Path, sandbox: Path, isolation: str) -> None:
    stage = Stage(
        load_profile(
            None,
            {
                "target": "sw_targets:slow_counted",
                "root": str(sandbox),
                "calls": 200,
                "rate": 100,
                "concurrency": 2,
                "isolation": isolation,
                "tick": TICK,
            },
        ),
        out_dir=tmp_path / "runs",
    )
    run_dir = stage.prepare()
    assert stage.run() == 0
    summary = _summary(run_dir)
    assert summary["calls"] == counted(sandbox, "slow")
    assert summary["calls"] + summary["missed_arrivals"] == 200
    assert summary["missed_arrivals"] > 0
    assert "arrivals missed" in summary["verdict"]


def test_scheduled_latency_has_no_start_up_artefact(tmp_path: Path) -> None:
    # a rate the server keeps up with: from the scheduled start, calls wait no more than a tick,
    # also in the first half second (the HTTP clients' set-up is not counted as lateness)
    tick = 0.1
    with slow_server(tmp_path, delay=0.02) as srv:
        stage = _stage(tmp_path, srv.url, calls=25, rate=50, concurrency=8, tick=tick)
        run_dir = stage.prepare()
        assert stage.run() == 0
        assert srv.stats()["answered"] == 25
    summary = _summary(run_dir)
    sched, lat = summary["latency_scheduled"], summary["latency"]
    assert summary["missed_arrivals"] == 0
    assert sched["max"] <= lat["max"] + tick * 1000, (sched, lat)
