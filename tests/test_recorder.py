from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from soakwatch.config.profile import load_profile
from soakwatch.core.events import EventLog, read_events
from soakwatch.core.recorder import ERROR_EVENTS_PER_KIND, ErrorRecord, Recorder, ResultBatch
from soakwatch.core.reports import build_summary
from soakwatch.core.rundir import write_run_config
from soakwatch.sections import REPORT_SECTIONS

_open: list[Recorder] = []


@pytest.fixture(autouse=True)
def _close_recorders() -> Iterator[None]:
    yield
    while _open:
        rec = _open.pop()
        rec.close()
        rec.events.close()


def _recorder(tmp_path: Path, open_model: bool = False) -> Recorder:
    rec = Recorder(tmp_path, EventLog(tmp_path / "events.jsonl"), open_model=open_model)
    _open.append(rec)
    return rec


def test_counts_errors_by_kind_and_writes_the_evidence(tmp_path: Path) -> None:
    rec = _recorder(tmp_path)
    rec.declare("size_kb[a.log]")
    for i in range(30):
        errs = [ErrorRecord("ValueError", f"bad {i}", i)] + ([ErrorRecord("Timeout", "slow", i, True)] if i < 2 else [])
        rec.add(ResultBatch(np.full(100, 2_000_000, dtype=np.int64), errs))
        rec.set("size_kb[a.log]", float(i))
        rec.tick(in_flight=1)
    assert (rec.calls, rec.errors, rec.timeouts, rec.ok) == (3000, 30, 2, 2968)
    assert rec.kinds["ValueError"].count == 30 and rec.kinds["ValueError"].first_message == "bad 0"
    events = read_events(tmp_path / "events.jsonl")
    assert sum(1 for e in events if e["kind"] == "error" and e["error_kind"] == "ValueError") == ERROR_EVENTS_PER_KIND
    assert sum(e["counts"].get("ValueError", 0) for e in events if e["kind"] == "errors") == 30
    with (tmp_path / "timeline.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30 and rows[-1]["calls"] == "3000" and rows[-1]["size_kb[a.log]"] == "29"
    assert float(rows[-1]["p50_ms"]) == 2.0
    rate = rec.series("rate")
    assert rate is not None and len(rate.points) == 30 and rate.tail(2) == [rate.points[-2][1], rate.points[-1][1]]


def test_late_series_go_to_timeline_extra(tmp_path: Path) -> None:
    rec = _recorder(tmp_path)
    rec.tick()
    rec.set("rss_mb[worker-9]", 12.0)
    rec.tick()
    assert "rss_mb[worker-9],12" in (tmp_path / "timeline_extra.csv").read_text()


def test_sliding_latency_window(tmp_path: Path) -> None:
    rec = _recorder(tmp_path)
    rec.add(ResultBatch(np.full(10, 100_000_000, dtype=np.int64)))  # 100 ms
    rec.tick()
    n, (p50,) = rec.latency_window(60, [50])
    assert n == 10 and 99 < p50 < 101
    rec.last_tick_t += 1000  # far later: the old tick is outside a 60 s window
    assert rec.latency_window(60, [50])[0] == 0


def test_rings_are_bounded(tmp_path: Path) -> None:
    rec = Recorder(None, EventLog(None))
    for _ in range(5000):
        rec.set("x", 1.0)
        rec.tick()
    s = rec.series("x")
    assert s is not None and len(s.points) <= 3600


def test_summary_rebuilt_from_disk(tmp_path: Path) -> None:
    write_run_config(tmp_path, load_profile("smoke", {"target": "m:f"}), tmp_path, None)
    rec = _recorder(tmp_path)
    rec.add(ResultBatch(np.arange(1, 1001, dtype=np.int64) * 1000, [ErrorRecord("KeyError", "'x'", 5)]))
    rec.tick()
    rec.events.flush()
    s = build_summary(tmp_path, REPORT_SECTIONS)
    assert s.calls == 1000 and s.errors == 1 and s.ok == 999 and not s.complete
    assert s.errors_by_kind[0].kind == "KeyError" and s.errors_by_kind[0].first_message == "'x'"
    assert 0.49 < s.latency.p50 < 0.51 and s.latency.count == 1000
    json.loads(s.model_dump_json())


def test_series_ring_wraps_and_keeps_minute_averages() -> None:
    from soakwatch.core.series import RING_POINTS, Series

    s = Series("x")
    for i in range(RING_POINTS + 10):
        s.append(float(i), float(i))
    assert len(s) == RING_POINTS and s.points[0] == (10.0, 10.0) and s.last == RING_POINTS + 9
    assert s.tail(3) == [float(RING_POINTS + 7), float(RING_POINTS + 8), float(RING_POINTS + 9)]
    assert s.coarse[0] == (0.0, 29.5)  # the mean of 0..59
    s.put(float(RING_POINTS + 9), -1.0)
    assert s.last == -1.0 and len(s) == RING_POINTS
