"""The gates through the real CLI: an abort gate stops a stage that goes bad; bad rules are exit 2."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from soakwatch.core.events import read_events
from tests.helpers import only_run_dir, run_cli

pytestmark = pytest.mark.e2e

#: after this many calls the target fails one call in five
GOOD_CALLS = 1000
TARGET = f'''
"""0 % errors for the first {GOOD_CALLS} calls, then 20 %; about 1 ms per call."""
import time

_n = 0


class Overloaded(RuntimeError):
    pass


def jump(case=None):
    global _n
    _n += 1
    time.sleep(0.001)
    if _n > {GOOD_CALLS} and _n % 5 == 0:
        raise Overloaded(f"call {{_n}} refused")
    return _n
'''


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    r.mkdir()
    (r / "errjump.py").write_text(TARGET)
    return r


def test_abort_gate_stops_the_stage_within_a_second(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--target",
            "errjump:jump",
            "--root",
            str(root),
            "--calls",
            "20000",
            "--isolation",
            "inline",
            "--abort-on",
            "errors: error_ratio < 0.05 over 2s",
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=root,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    run_dir = only_run_dir(out)
    events = read_events(run_dir / "events.jsonl")
    first_error = next(e for e in events if e["kind"] == "error")
    abort = next(e for e in events if e["kind"] == "abort")
    end = next(e for e in events if e["kind"] == "stage_end")
    assert abort["gate"] == "errors"
    # the breach begins with the first failed call (folded on a tick); the stage is over within a second
    assert end["t"] - first_error["t"] < 1.0, (first_error["t"], abort["t"], end["t"])
    assert end["state"] == "ABORTED" and end["exit_code"] == 1
    assert end["calls"] < 20000
    final = next(e for e in events if e["kind"] == "gate_final" and e["gate"] == "errors")
    assert final["status"] == "fail" and final["observed"] >= 0.05
    # the timeline agrees: its last row is no later than a second after the first error
    rows = (run_dir / "timeline.csv").read_text().splitlines()
    header = rows[0].split(",")
    last_t = float(rows[-1].split(",")[header.index("t")])
    assert last_t - first_error["t"] < 1.0
    assert "gate_value[errors]" in header and "gate_margin[errors]" in header

    failures = (run_dir / "failures.md").read_text()
    assert "errors" in failures and f"{final['observed']:.4g}" in failures
    assert "error_ratio < 0.05 over 2s" in failures and "Overloaded" in failures
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    case = suite.find("testcase[@name='errors']")
    assert case is not None and case.find("failure") is not None
    summary = json.loads((run_dir / "summary.json").read_text())
    gates = summary["sections"]["gates"]
    assert gates["aborted_by"] == "errors" and gates["failed"] == ["errors"]
    md = (run_dir / "summary.md").read_text()
    assert "## Gates" in md and "FAIL" in md

    # the report is rebuilt from the run dir alone
    for name in ("summary.json", "summary.md", "failures.md", "junit.xml"):
        (run_dir / name).unlink()
    again = run_cli(["report", str(run_dir)], cwd=root)
    assert again.returncode == 0, again.stderr
    assert (run_dir / "failures.md").read_text() == failures


def test_passing_gate_writes_junit_and_no_failures(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--target",
            "errjump:jump",
            "--root",
            str(root),
            "--calls",
            "300",
            "--isolation",
            "inline",
            "--gate",
            "error_ratio < 0.05 over 2s",
            "--gate",
            "latency p99 < 5s",
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=root,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(out)
    assert not (run_dir / "failures.md").exists()
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "0"


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ("latency p95 < abc", "position 15"),
        ("error_ratio <> 0.05", "position 14"),
        ("rss_slope[nowhere] < 10", "unknown process 'nowhere'"),
        ("size_kb[state/other.json] < 10", "not a watched file"),
        ("p95 < 500", "unknown metric 'p95'"),
    ],
)
def test_bad_rule_on_the_command_line_is_exit_2(root: Path, tmp_path: Path, rule: str, needle: str) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        [
            "run",
            "--target",
            "errjump:jump",
            "--root",
            str(root),
            "--calls",
            "10",
            "--isolation",
            "inline",
            "--gate",
            rule,
            "--no-tui",
            "--out-dir",
            str(out),
        ],
        cwd=root,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert needle in r.stderr and rule in r.stderr
    assert not out.exists()  # nothing ran


def test_bad_condition_in_a_profile_is_exit_2(root: Path) -> None:
    prof = root / "bad.toml"
    prof.write_text(
        'calls = 10\ntarget = "errjump:jump"\n\n[[gates]]\nname = "slow calls"\nmetric = "latency"\n'
        'condition = "p95 < 500 parsecs"\n'
    )
    r = run_cli(["validate", str(prof)], cwd=root)
    assert r.returncode == 2
    assert "gate 'slow calls'" in r.stderr and "p95 < 500 parsecs" in r.stderr and "position 11" in r.stderr
    prof.write_text(
        'calls = 10\ntarget = "errjump:jump"\n\n[[gates]]\nname = "pra"\nmetric = "delta_lines[state/pra.json]"\n'
        'condition = "max == 0"\n'
    )
    r = run_cli(["validate", str(prof)], cwd=root)
    assert r.returncode == 2
    assert "gate 'pra'" in r.stderr and "delta_lines[state/pra.json]" in r.stderr and "position 1" in r.stderr


def test_selftest_every_detector_fires(tmp_path: Path) -> None:
    r = run_cli(["selftest"], cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every detector fired" in r.stdout and "MISSED" not in r.stdout
    assert "every detector stayed quiet on a healthy target" in r.stdout and "NOISY" not in r.stdout
    for kind in (
        "error ratio",
        "maximum stall",
        "RSS growth ratio",
        "watched file size",
        "monotonic",
        "processes alive",
        "RSS growth after a fitted warm-up",
        "RSS slope of a short stage",
        "sum(a) / sum(b) of per-epoch counts",
        "string field, every report",
        "burst per key of a dict field",
        "per-worker gate of a [*] rule",
        "max(a) of a report field",
        "mean(a) of a report field",
        "pNN(a) of a report field",
    ):
        assert kind in r.stdout
    assert r.stdout.count("  quiet  ") == 12
    for quiet_only in ("rate(a) of a report field", "delta(a) of a report field"):
        assert quiet_only in r.stdout
