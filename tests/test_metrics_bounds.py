"""Attack: the metrics endpoint (issue 13, case 13).

A hostile local client opening 500 connections that never send a request made 508 threads;
the endpoint vanished the instant the stage ended; a latency gauge had a ``quantile`` label and
series were in MB/KB. Now: bounded connections, the final values served for
``--metrics-linger`` seconds, names that pass Prometheus' lint rules.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from soakwatch.core.snapshot import GateView, Snapshot
from soakwatch.views._metrics_server import MAX_CONNECTIONS
from soakwatch.views.prometheus import MetricsExporter, SnapshotCollector

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
#: name parts promtool's lint refuses (abbreviated units: use base units, spelled out)
ABBREVIATED = {"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"}
HOSTILE = 500


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _snapshot(**kw: object) -> Snapshot:
    data: dict[str, object] = {
        "seq": 3,
        "stage": "s1",
        "profile": "s1",
        "target": "m:f",
        "run_dir": "/tmp/runs/s1-20260101T000000Z",
        "state": "RUNNING",
        "elapsed": 12.5,
        "calls": 200,
        "errors": 3,
        "timeouts": 1,
        "latency": {"p50": 2.0, "p95": 8.0, "p99": 9.5, "max": 20.0},
        "latency_run": {"p50": 2.0, "p95": 8.0, "p99": 9.5, "max": 20.0, "mean": 3.0},
        "latency_sched": {"p50": 3.0, "p95": 9.0, "p99": 9.9},
        "error_kinds": [{"kind": "ValueError", "count": 3, "last_message": "x"}],
        "planned_calls": 400,
        "gates": [
            GateView(name="errors", metric="error_ratio", condition="c", severity="fail", status="fail", observed=0.02),
        ],
    }
    data.update(kw)
    return Snapshot.model_validate(data)


SERIES = {
    "rss_mb[target]": 30.5,
    "size_kb[state/log.json]": 4.0,
    "rtt_ms[probe]": 250.0,
    "uptime_s[node-1]": 7.0,
    "cpu_pct[target]": 12.0,
    "retries_total[probe]": 5.0,
    "delta_lines": 2.0,
}


def test_every_name_passes_the_lint_rules(tmp_path: Path) -> None:
    col = SnapshotCollector()
    reg = CollectorRegistry(auto_describe=False)
    reg.register(col)
    col.set(_snapshot(), SERIES)
    text = generate_latest(reg).decode()
    fams = list(text_string_to_metric_families(text))
    assert len(fams) >= 15
    for fam in fams:
        for sample in fam.samples:
            assert NAME.match(sample.name), sample.name
            assert not ABBREVIATED & set(sample.name.split("_")), f"abbreviated unit in {sample.name}"
            if fam.type == "counter":
                assert sample.name.endswith(("_total", "_created")), sample.name
            else:
                assert not sample.name.endswith("_total"), f"{fam.type} {sample.name} ends in _total"
            if "quantile" in sample.labels:
                assert fam.type == "summary", f"{sample.name}: a quantile label on a {fam.type}"
    by = {f.name: f for f in fams}
    assert by["soakwatch_rss_bytes"].samples[0].value == 30.5 * 1024 * 1024
    assert by["soakwatch_size_bytes"].samples[0].value == 4.0 * 1024
    assert by["soakwatch_rtt_seconds"].samples[0].value == pytest.approx(0.25)
    assert by["soakwatch_uptime_seconds"].samples[0].value == 7.0
    lat = {s.name: s.value for s in by["soakwatch_latency_seconds"].samples if "quantile" not in s.labels}
    assert lat == {"soakwatch_latency_seconds_count": 200.0, "soakwatch_latency_seconds_sum": pytest.approx(0.6)}
    if shutil.which("promtool"):  # the real linter, where it is installed
        res = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr


def _threads() -> int:
    return threading.active_count()


def test_500_silent_connections_neither_exhaust_nor_wedge_the_endpoint() -> None:
    exporter = MetricsExporter("127.0.0.1", 0)
    exporter.collector.set(_snapshot(), SERIES)
    before = _threads()
    socks: list[socket.socket] = []
    try:
        for _ in range(HOSTILE):  # connect and never send a request
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", exporter.port))
            except OSError:
                s.close()
                continue
            socks.append(s)
        assert len(socks) >= HOSTILE // 2, "the test could not open its connections"
        # give the server time to accept what it will (a predicate: it refused the rest)
        _wait(lambda: exporter._server.refused >= len(socks) - MAX_CONNECTIONS, 30, "the surplus refused")
        assert _threads() - before <= MAX_CONNECTIONS + 1
        # the silent ones are cut after the request timeout: a real scrape gets through, exact values
        got: dict[str, float] = {}

        def scraped() -> bool:
            try:
                r = httpx.get(exporter.url, timeout=2)
            except httpx.HTTPError:
                return False
            fams = {f.name: f for f in text_string_to_metric_families(r.text)}
            got.update({"calls": fams["soakwatch_calls"].samples[0].value})
            return True

        _wait(scraped, 30, "a scrape to get through")
        assert got == {"calls": 200.0}
        _wait(lambda: _threads() - before <= 1, 30, "the connection threads to end")
    finally:
        for s in socks:
            s.close()
        exporter.close()


def test_final_values_are_served_after_the_stage_ends(sandbox: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "soakwatch", "run", "--target", "sw_hostile:ok", "--calls", "40", "--isolation"]
    cmd += ["inline", "--no-tui", "--out-dir", str(tmp_path / "runs"), "--metrics-port", "0"]
    cmd += ["--metrics-linger", "60"]
    env = {**os.environ, "SOAKWATCH_ROOT": str(sandbox), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=sandbox, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        url = ""
        deadline = time.monotonic() + 60
        while not url:
            assert time.monotonic() < deadline, "no 'final metrics' line: " + "".join(lines)
            line = proc.stdout.readline()
            assert line, "the monitor ended without serving the final values: " + "".join(lines)
            lines.append(line)
            if m := re.search(r"final metrics on (http://127\.0\.0\.1:\d+/metrics)", line):
                url = m.group(1)
        fams = {f.name: f for f in text_string_to_metric_families(httpx.get(url, timeout=10).text)}
        states = {s.labels["soakwatch_state"]: s.value for s in fams["soakwatch_state"].samples}
        assert states["PASSED"] == 1
        assert fams["soakwatch_calls"].samples[0].value == 40
        proc.send_signal(signal.SIGINT)  # Ctrl-C ends the wait at once, with the stage's own code
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
