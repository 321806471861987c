"""``--metrics-port``: a live stage scraped over 127.0.0.1 and parsed with prometheus_client's parser."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from soakwatch.core.snapshot import GateView, Snapshot
from soakwatch.demo import prepare_sandbox
from soakwatch.views.prometheus import SnapshotCollector

REPO = Path(__file__).parent.parent
DOCS = REPO / "docs" / "prometheus"
#: bounds of the live test: waits for the endpoint and for data in it
WAIT_S = 60.0
POLL_S = 0.2


def _read_line_matching(proc: subprocess.Popen[str], pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], POLL_S)
        if not ready:
            continue
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        m = pattern.search(line)
        if m:
            return m
    raise AssertionError(f"no line matching {pattern.pattern!r} in {''.join(seen)!r}")


def _scrape(url: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    text = httpx.get(url, timeout=5).text
    out: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        out[fam.name] = [(s.name, dict(s.labels), s.value) for s in fam.samples]
    return out


def _docs_metric_names() -> set[str]:
    names: set[str] = set()
    for path in DOCS.iterdir():
        names |= set(re.findall(r"\bsoakwatch_[a-z0-9_]+", path.read_text()))
    return names


@pytest.mark.e2e
def test_live_stage_is_scraped_and_parsed(tmp_path: Path) -> None:
    root = prepare_sandbox(tmp_path / "sandbox")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SOAKWATCH_ROOT", None)
    cmd = [sys.executable, "-m", "soakwatch", "demo", "--no-tui", "--root", str(root), "--calls", "20000"]
    cmd += ["--rate", "100", "--out-dir", str(tmp_path / "runs"), "--metrics-port", "0", "--set", "tick=0.2"]
    cmd += ["--metrics-linger", "0"]
    cmd += ["--set", "processes.warmup=1", "--set", "processes.interval=0.25"]  # memory trend series early
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    drain: threading.Thread | None = None
    try:
        m = _read_line_matching(proc, re.compile(r"metrics on (http://127\.0\.0\.1:\d+/metrics)"), WAIT_S)
        url = m.group(1)
        # keep reading its output: a full pipe would block the stage's status lines and so its stop
        drain = threading.Thread(target=proc.stdout.read, daemon=True)  # type: ignore[union-attr]
        drain.start()
        deadline = time.monotonic() + WAIT_S
        fams: dict[str, list[tuple[str, dict[str, str], float]]] = {}
        while time.monotonic() < deadline:
            fams = _scrape(url)
            calls = fams.get("soakwatch_calls", [])
            # the docs' rules also use the per-kind error counter: wait for the demo's first error too
            wanted = ["soakwatch_rss_bytes", "soakwatch_rss_slope", "soakwatch_rss_slope_conf", "soakwatch_gate_status"]
            wanted.append("soakwatch_errors_by_kind")
            wanted.append("soakwatch_delta_lines")  # from the second snapshot on (200 calls at 100/s)
            if calls and calls[0][2] >= 50 and all(w in fams for w in wanted):
                break
            time.sleep(POLL_S)
        (name, labels, value) = fams["soakwatch_calls"][0]
        assert name == "soakwatch_calls_total" and value >= 50
        assert labels["stage"] == "demo" and labels["run"].startswith("demo-")
        states = {s[1]["soakwatch_state"]: s[2] for s in fams["soakwatch_state"]}
        assert states["RUNNING"] == 1 and sum(states.values()) == 1
        quantiles = {s[1]["quantile"]: s[2] for s in fams["soakwatch_latency_seconds"] if "quantile" in s[1]}
        assert set(quantiles) == {"0.5", "0.95", "0.99"} and 0 < quantiles["0.5"] <= quantiles["0.99"]
        subjects = {s[1]["subject"] for s in fams["soakwatch_rss_bytes"]}
        assert {"monitor", "target"} <= subjects
        assert {s[1]["subject"] for s in fams["soakwatch_size_bytes"]} >= {"state/pra_log.json"}
        gates = {s[1]["gate"]: s[2] for s in fams["soakwatch_gate_status"]}
        assert gates and all(v in (-1, 0, 1, 2) for v in gates.values())
        info = fams["soakwatch_stage_info"][0]
        assert info[0] == "soakwatch_stage_info" and info[1]["target"] == "soakwatch.demo:run_model"
        # every metric the docs' scrape config, alert rules and dashboard use is one the endpoint serves
        served = {sample for samples in fams.values() for sample, _, _ in samples} | set(fams)
        missing = _docs_metric_names() - served
        assert not missing, f"docs/prometheus name metrics the exporter does not serve: {missing}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if drain is not None:
            drain.join(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 130


def test_taken_port_is_exit_2(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run_cli(
            ["run", "--target", "soakwatch.demo:work", "--calls", "1", "--no-tui", "--metrics-port", str(port)],
            cwd=tmp_path,
        )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "--metrics-port" in r.stderr and str(port) in r.stderr
    assert not (tmp_path / ".soakwatch").exists()


def _snapshot(**kw: object) -> Snapshot:
    data: dict[str, object] = {
        "seq": 3,
        "stage": "s1",
        "profile": "s1",
        "target": "m:f",
        "run_dir": "/tmp/runs/s1-20260101T000000Z",
        "state": "PAUSED",
        "elapsed": 12.5,
        "calls": 200,
        "errors": 3,
        "timeouts": 1,
        "latency": {"p50": 2.0, "p95": 8.0, "p99": 9.5, "max": 20.0},
        "planned_calls": 400,
        "gates": [
            GateView(name="errors", metric="error_ratio", condition="c", severity="fail", status="fail", observed=0.02),
            GateView(name="mem", metric="rss_growth[target]", condition="c", severity="warn", status="pending"),
        ],
    }
    data.update(kw)
    return Snapshot.model_validate(data)


def test_collector_maps_snapshot_and_series_without_a_server() -> None:
    col = SnapshotCollector()
    reg = CollectorRegistry(auto_describe=False)
    reg.register(col)
    assert generate_latest(reg) == b""  # nothing before the first snapshot
    values = {"rss_mb[worker-0]": 30.5, "rss_slope[target]": float("nan"), "files_changed": 2.0, "rate": 9.0}
    col.set(_snapshot(), values)
    fams = {f.name: f for f in text_string_to_metric_families(generate_latest(reg).decode())}
    assert fams["soakwatch_error_ratio"].samples[0].value == pytest.approx(0.02)
    assert fams["soakwatch_progress_ratio"].samples[0].value == pytest.approx(0.5)
    lat = fams["soakwatch_latency_seconds"]
    assert lat.type == "summary"
    assert {s.labels["quantile"]: s.value for s in lat.samples if "quantile" in s.labels}["0.95"] == 0.008
    status = {s.labels["gate"]: s.value for s in fams["soakwatch_gate_status"].samples}
    assert status == {"errors": 2.0, "mem": -1.0}
    assert [s.labels["gate"] for s in fams["soakwatch_gate_observed"].samples] == ["errors"]
    rss = fams["soakwatch_rss_bytes"].samples[0]  # MB (binary) served in bytes
    assert (rss.labels["subject"], rss.value) == ("worker-0", 30.5 * 1024 * 1024)
    assert fams["soakwatch_files_changed"].samples[0].value == 2.0
    assert "soakwatch_rss_slope" not in fams  # NaN: no value yet, no sample
    assert "soakwatch_rate" not in fams  # core series have their own names
    states = {s.labels["soakwatch_state"]: s.value for s in fams["soakwatch_state"].samples}
    assert states["PAUSED"] == 1 and sum(states.values()) == 1


def test_docs_dashboard_is_json_and_rules_name_their_alerts() -> None:
    dash = json.loads((DOCS / "grafana-dashboard.json").read_text())
    assert dash["panels"] and all(p.get("targets") for p in dash["panels"] if p.get("type") != "row")
    rules = (DOCS / "alerts.yml").read_text()
    for alert in ("SoakwatchErrorRatio", "SoakwatchLatencyP95", "SoakwatchRssSlope", "SoakwatchStalled"):
        assert f"alert: {alert}" in rules
