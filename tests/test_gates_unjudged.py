"""Unjudged gates are never a bare PASS: the verdict says how many, each gate says why (issue: no false PASS)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.gates_harness import Harness
from tests.helpers import only_run_dir, run_cli

SLOPE = {"name": "rss slope", "metric": "rss_slope[target]", "condition": "< 50"}
ERRORS = {"name": "errors", "metric": "error_ratio", "condition": "< 5%"}


def test_a_gate_without_samples_is_a_caveat_naming_its_collector() -> None:
    h = Harness([SLOPE])
    for _ in range(10):
        h.calls(100)
        h.tick()
    final = h.stop()["rss slope"]
    assert final["status"] == "insufficient_data"
    assert final["why"] == "no samples of rss_slope[target] (processes collector)"
    v = h.plugin.verdict()
    assert not v.failed
    assert v.caveats == ("1 gate not judged (rss slope)",)


def test_min_samples_not_reached_names_the_window_and_the_count() -> None:
    h = Harness([ERRORS])
    for _ in range(3):
        h.calls(2)
        h.tick()
    assert h.final("errors") == "insufficient_data"
    assert h.stop()["errors"]["why"] == "min 20 samples not reached (at most 6 in the 60s window)"
    view = h.plugin.view()["gates"][0]
    assert view.why == "min 20 samples not reached (at most 6 in the 60s window)"


def test_a_stage_that_ends_before_the_delay_is_not_judged() -> None:
    h = Harness([{**ERRORS, "delay": "30s"}])
    h.calls(100)
    h.tick()
    assert h.plugin.view()["gates"][0].why == "waiting for its delay (30s)"
    assert h.stop()["errors"]["why"] == "stage ended before its delay (30s)"
    assert h.plugin.verdict().caveats == ("1 gate not judged (errors)",)


def test_policy_fail_never_raises_a_warn_gate() -> None:
    h = Harness([{**SLOPE, "severity": "warn"}, {**ERRORS, "name": "errors"}], insufficient_data="fail")
    h.calls(5)
    h.tick()
    h.stop()
    v = h.plugin.verdict()
    # the fail gate fails for lack of data; the warn gate stays a caveat, never a failure
    assert v.failed
    assert v.reasons == ("gate errors: insufficient data: min 20 samples not reached (at most 5 in the 60s window)",)
    assert v.caveats == ("1 gate not judged (rss slope)",)


def test_many_unjudged_gates_are_counted_and_the_first_named() -> None:
    gates = [{**SLOPE, "name": f"g{i}"} for i in range(5)]
    h = Harness(gates)
    h.tick()
    h.stop()
    assert h.plugin.verdict().caveats == ("5 gates not judged (g0, g1, g2, …)",)


TARGET = """
import time


def ok(case=None):
    time.sleep(0.002)
    return 1
"""


@pytest.mark.e2e
def test_cli_says_passed_with_gates_not_judged_everywhere(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "okt.py").write_text(TARGET)
    out = tmp_path / "runs"
    args = ["run", "--target", "okt:ok", "--root", str(root), "--calls", "600", "--isolation", "inline"]
    args += ["--no-tui", "--out-dir", str(out), "--gate", "rss_slope[target] < 50", "--gate", "error_ratio < 5%"]
    r = run_cli(args, cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASSED, 1 gate not judged (rss_slope[target] < 50)" in r.stdout
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "PASSED, 1 gate not judged (rss_slope[target] < 50)"
    md = (run_dir / "summary.md").read_text()
    assert md.startswith("# Stage `adhoc`: PASSED, 1 gate not judged")
    assert "not judged: no samples of rss_slope[target] (processes collector)" in md
    suite = ET.parse(run_dir / "junit.xml").getroot()[0]
    assert suite.get("skipped") == "1" and suite.get("failures") == "0"
    skipped = [c for c in suite if c.find("skipped") is not None]
    assert len(skipped) == 1
    msg = skipped[0].find("skipped").get("message")  # type: ignore[union-attr]
    assert msg == "not judged: no samples of rss_slope[target] (processes collector) (rss_slope[target] < 50)"


def test_processes_alive_shows_alive_of_expected() -> None:
    h = Harness(
        [{"name": "alive", "metric": "processes", "condition": "alive"}],
        target="m:f",
        isolation="process",
        concurrency=3,
    )
    h.ctx.target_pids = lambda: {"worker-0": 11, "worker-1": 12, "worker-2": 13}
    h.tick()
    assert h.plugin.view()["gates"][0].observed == "3/3 alive, 0 exits"
    h.emit("worker_crash", slot=1)
    h.ctx.target_pids = lambda: {"worker-0": 11, "worker-2": 13}
    h.tick()
    assert h.plugin.view()["gates"][0].observed == "2/3 alive, 1 exits"
    final = h.stop()["alive"]
    assert final["status"] == "fail" and final["shown"] == "2/3 alive, 1 exits"
