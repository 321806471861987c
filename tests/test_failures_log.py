"""failures.jsonl: one line per failed call, up to a size cap whose left-out lines are counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soakwatch.config.profile import load_profile
from soakwatch.core import failures
from soakwatch.core.failures import FailureLog, count_failures, read_failures
from soakwatch.core.recorder import ErrorRecord
from soakwatch.stage import Stage
from tests.helpers import counted


def test_the_cap_stops_the_file_and_counts_what_it_left_out(tmp_path: Path) -> None:
    log = FailureLog(tmp_path / "failures.jsonl", max_bytes=1000)
    errs = [ErrorRecord("ValueError", f"bad {i}", i, latency_ns=1_500_000) for i in range(100)]
    log.write(errs[:50], 1.0)
    log.write(errs[50:], 1.5)
    log.close()
    assert log.capped and 0 < log.written < 100
    assert log.written + log.left_out == 100
    assert count_failures(tmp_path) == log.written
    first = next(read_failures(tmp_path))
    assert first == {"call": 0, "t": 1.0, "kind": "ValueError", "timeout": False, "latency_ms": 1.5, "message": "bad 0"}


def test_a_stage_reports_the_failures_left_out(tmp_path: Path, sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failures, "FAILURES_MAX_BYTES", 1500)
    prof = {"target": "sw_targets:flaky", "root": str(sandbox), "cases": "cases.jsonl", "calls": 3000}
    stage = Stage(load_profile(None, {**prof, "isolation": "inline"}), out_dir=tmp_path / "runs")
    run_dir = stage.prepare()
    assert stage.run() == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["errors"] == counted(sandbox, "error") == 30
    logged = count_failures(run_dir)
    assert 0 < logged < 30 and summary["failures_logged"] == logged
    assert summary["failures_left_out"] == 30 - logged
    assert "left out at its size cap" in (run_dir / "summary.md").read_text()
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["lines"] for e in events if e["kind"] == "failures_capped"] == [logged]
