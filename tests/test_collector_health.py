"""A broken collector never lets a stage pass unseen (issue: no false PASS), through the real CLI.

A scrape whose body is not Prometheus text, a ``[[reports]]`` folder that does not exist
where a relative path points, a JSON string field: each is live health, an event, a
``collector_health`` record and a caveat on the verdict line, with counts that equal the
server's own.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soakwatch.core.events import read_events
from tests.helpers import only_run_dir, run_cli

pytestmark = pytest.mark.e2e

TARGET = """
import time


def ok(case=None):
    time.sleep(0.002)
    return 1
"""


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A local endpoint that serves ``state['body']`` and counts the requests it answered."""
    state: dict[str, Any] = {"body": "<html><body>metrics moved</body></html>", "served": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = str(state["body"]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            state["served"] += 1

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/metrics", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run(tmp_path: Path, profile_tail: str, *extra: str) -> tuple[Any, Path]:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    (root / "okt.py").write_text(TARGET)
    prof = tmp_path / "p.toml"
    prof.write_text(f'name = "health"\ntarget = "okt:ok"\ncalls = 600\nisolation = "inline"\n{profile_tail}')
    out = tmp_path / "runs"
    args = ["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out), *extra]
    r = run_cli(args, cwd=tmp_path, timeout=60)
    return r, only_run_dir(out)


def _health(run_dir: Path, collector: str) -> dict[str, dict[str, Any]]:
    evs = [e for e in read_events(run_dir / "events.jsonl") if e.get("kind") == "collector_health"]
    ev = next(e for e in evs if e.get("collector") == collector)
    return {s["source"]: s for s in ev["sources"]}


def test_a_scrape_of_a_body_that_is_not_prometheus_text_is_on_the_verdict(
    tmp_path: Path, server: tuple[str, dict[str, Any]]
) -> None:
    url, state = server
    r, run_dir = _run(
        tmp_path, f'[[scrape]]\nname = "m"\nurl = "{url}"\ninterval = "0.2s"\nfields = {{ q = "queue" }}\n'
    )
    assert r.returncode == 0, r.stdout + r.stderr
    health = _health(run_dir, "scrape:m")["endpoint"]
    assert health["status"] == "failing" and health["samples"] == 0
    assert health["failures"] == state["served"] > 2  # every answer the server gave was a failure
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"].startswith("PASSED, scrape:m endpoint: no sample in ")
    assert "no Prometheus samples in the body" in summary["verdict"] or "bad body" in summary["verdict"]
    assert summary["sections"]["collectors"]["failing"] == ["scrape:m endpoint"]
    assert "## Collectors" in (run_dir / "summary.md").read_text()


def test_a_json_string_field_is_read_and_judged_by_a_string_gate(
    tmp_path: Path, server: tuple[str, dict[str, Any]]
) -> None:
    url, state = server
    state["body"] = json.dumps({"status": "ok", "queue": 3})
    tail = f'[[scrape]]\nname = "h"\nurl = "{url}"\ninterval = "0.2s"\nformat = "json"\n'
    tail += 'fields = { status = "status", q = "queue" }\n'
    tail += '[[gates]]\nname = "healthy"\nmetric = "status[h]"\ncondition = \'== "ok"\'\n'
    tail += '[[gates]]\nname = "not stalled"\nmetric = "status[h]"\ncondition = \'!= "stalled"\'\n'
    r, run_dir = _run(tmp_path, tail)
    assert r.returncode == 0, r.stdout + r.stderr
    health = _health(run_dir, "scrape:h")
    assert health["endpoint"]["samples"] == state["served"] and health["endpoint"]["failures"] == 0
    assert health["field q"]["failures"] == 0
    # present as a string: a status, not "not in the json body"
    assert health["field status"]["failures"] == 0 and health["field status"]["samples"] == state["served"]
    rows = {r["gate"]: r for r in json.loads((run_dir / "summary.json").read_text())["sections"]["gates"]["rows"]}
    assert rows["healthy"]["status"] == "pass" and rows["healthy"]["shown"] == "'ok'"
    assert rows["not stalled"]["status"] == "pass"


def test_a_relative_reports_folder_is_resolved_against_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "reports").mkdir(parents=True)
    (root / "reports" / "epoch-1.json").write_text(json.dumps({"h": 5}))
    r, run_dir = _run(tmp_path, '[[reports]]\nname = "n1"\npath = "reports"\nfields = { h = "h" }\n')
    assert r.returncode == 0, r.stdout + r.stderr
    assert _health(run_dir, "reports:n1")["folder"]["samples"] == 1
    assert json.loads((run_dir / "summary.json").read_text())["verdict"] == "PASSED"


def test_a_missing_reports_folder_is_a_caveat_naming_where_it_looked(tmp_path: Path) -> None:
    r, run_dir = _run(tmp_path, '[[reports]]\nname = "n1"\npath = "data/reports"\nfields = { h = "h" }\n')
    assert r.returncode == 0, r.stdout + r.stderr
    where = tmp_path / "root" / "data" / "reports"
    verdict = json.loads((run_dir / "summary.json").read_text())["verdict"]
    assert verdict.startswith("PASSED, reports:n1 folder: no sample in ")
    assert f"({where} does not exist)" in verdict
    assert f"{where} does not exist" in r.stdout


def test_validate_says_where_a_reports_folder_is(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "reports").mkdir(parents=True)
    (root / "okt.py").write_text("def ok():\n    return 1\n")  # validate checks the target as run does
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "v"\ntarget = "okt:ok"\ncalls = 1\nroot = "root"\n'
        '[[reports]]\nname = "n1"\npath = "reports"\n[[reports]]\nname = "n2"\npath = "nope"\n'
    )
    r = run_cli(["validate", str(prof)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"reports n1: {root / 'reports'} (exists)" in r.stdout
    assert f"reports n2: {root / 'nope'} (does not exist yet)" in r.stdout
