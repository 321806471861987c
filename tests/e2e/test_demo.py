"""`soakwatch demo` without a terminal (what `make demo` does in CI): a full stage, headless."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import only_run_dir, run_cli

pytestmark = pytest.mark.e2e


def test_demo_without_a_terminal_runs_headless_and_leaves_a_complete_run_dir(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    # no --no-tui: stdout is a pipe here, so the headless view is chosen by itself
    r = run_cli(["demo", "--calls", "300", "--set", "rate=150", "--out-dir", str(out)], cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "stage demo: PASSED" in r.stdout and "\x1b[" not in r.stdout  # plain lines, no screen drawing
    run_dir = only_run_dir(out)
    for name in (
        "run_config.json",
        "events.jsonl",
        "timeline.csv",
        "latency.hdr",
        "summary.json",
        "summary.md",
        "junit.xml",
    ):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "rss" / "monitor.csv").is_file() and list((run_dir / "workers").glob("worker-*.log"))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] and summary["calls"] == 300 and summary["ok"] + summary["errors"] == 300
    assert {"files", "snapshots", "processes", "gates"} <= set(summary["sections"])
    snaps = [e for e in map(json.loads, (run_dir / "events.jsonl").read_text().splitlines()) if e["kind"] == "snapshot"]
    assert len(snaps) == 3  # every 100 calls


def test_final_profile_on_the_demo_engine_passes_its_pra_gate(tmp_path: Path) -> None:
    # `final` resets the PRA log, so its first snapshot counts the lines the engine writes again;
    # the gate judges the Δ between snapshots, which is 0 once the bounded log is full
    from soakwatch.demo import prepare_sandbox

    root = prepare_sandbox(tmp_path / "engine")
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--profile",
            "final",
            "--target",
            "soakwatch.demo:run_model",
            "--root",
            str(root),
            "--cases",
            "cases.jsonl",
            "--calls",
            "300",
            "--set",
            "rate=200",
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout[-3000:]
    events = [json.loads(line) for line in (only_run_dir(out) / "events.jsonl").read_text().splitlines()]
    first = next(e for e in events if e["kind"] == "snapshot")
    assert first["files"]["state/pra_log.json"]["delta"] > 0
    final = {e["gate"]: e["status"] for e in events if e["kind"] == "gate_final"}
    assert final["PRA Δ lines"] == "pass"
