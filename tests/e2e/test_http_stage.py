"""Must-show: an HTTP stage through the real CLI against the example service with injected faults.

The service answers 2% HTTP 500 with a JSON error envelope, 1% malformed JSON and 1% too
slowly (it sleeps 1 s; the stage's timeout is 0.3 s), chosen by its request counter; every
kind must be counted exactly as the service's own /metrics counters say.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from tests.helpers import only_run_dir, run_cli
from tests.http_target_service import REPO, free_port, running_service

pytestmark = pytest.mark.e2e

EXAMPLE = REPO / "examples" / "http_service"
FAULTS = ("--error-rate=0.02", "--malformed-rate=0.01", "--timeout-rate=0.01", "--timeout-sleep=1")
CALLS = 1200


def example_profile(tmp: Path, port: int) -> Path:
    """The shipped example profile, pointed at ``port`` and at the example folder."""
    text = (EXAMPLE / "profile.toml").read_text().replace("127.0.0.1:8765", f"127.0.0.1:{port}")
    text = text.replace('root = "examples/http_service"', f"root = {json.dumps(str(EXAMPLE))}")
    path = tmp / "http_example.toml"
    path.write_text(text)
    return path


def test_fault_kinds_match_the_services_counters(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with running_service(tmp_path, *FAULTS) as svc:
        profile = example_profile(tmp_path, svc.port)
        args = ["run", "--profile", str(profile), "--calls", str(CALLS), "--concurrency", "8", "--timeout", "0.3"]
        r = run_cli([*args, "--no-tui", "--out-dir", str(out)], cwd=tmp_path)
        served, tokens = svc.metrics()
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    kinds = {k["kind"]: k["count"] for k in summary["errors_by_kind"]}
    assert sum(served.values()) == summary["calls"] == CALLS
    assert kinds == {
        "HTTP 500 internal_error": served["error"],
        "MalformedJSON": served["malformed"],
        "Timeout": served["timeout"],
    }
    assert summary["ok"] == served["ok"]
    assert summary["timeouts"] == served["timeout"]
    # 2% / 1% / 1% of 1200, give or take the low-discrepancy rounding
    assert abs(served["error"] - 24) <= 1
    assert abs(served["malformed"] - 12) <= 1
    assert abs(served["timeout"] - 12) <= 1
    md = (run_dir / "summary.md").read_text()
    assert "HTTP 500 internal_error" in md and "injected server error" in md
    with (run_dir / "timeline.csv").open() as fh:
        last = list(csv.DictReader(fh))[-1]
    assert float(last["tokens_completion"]) == 8 * served["ok"]
    assert 0 < float(last["tokens_prompt"]) <= tokens["prompt"]
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    client = [e for e in events if e["kind"] == "http_client"]
    assert client and client[0]["client"] == "fast"
    assert any("[" + client[0]["request_id_prefix"] + "-" in e["msg"] for e in events if e["kind"] == "error")


def test_no_server_is_connection_refused_and_the_gate_fails(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    profile = example_profile(tmp_path, free_port())
    r = run_cli(["run", "--profile", str(profile), "--calls", "600", "--no-tui", "--out-dir", str(out)], cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr  # the error-ratio gate, not a crash
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    assert {k["kind"]: k["count"] for k in summary["errors_by_kind"]} == {"ConnectionRefused": 600}


def test_bad_http_section_is_exit_2(tmp_path: Path) -> None:
    r = run_cli(
        ["run", "--target", "http://127.0.0.1:1/", "--calls", "1", "--set", 'http.client="curl"', "--no-tui"],
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "http.client" in r.stderr


def test_the_one_command_example_runs_and_agrees(tmp_path: Path) -> None:
    import subprocess

    out_args = ["--out-dir", str(tmp_path / "runs")]
    r = subprocess.run(
        [sys.executable, str(EXAMPLE / "run_example.py"), "--port", "0", "--no-tui", "--calls", "400", *out_args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every kind counted as the service counted it" in r.stdout
