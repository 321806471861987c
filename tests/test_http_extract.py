"""``[http] extract``: per-call values from answers, checked per call, failures naming the request id."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.profile import load_profile
from soakwatch.stage import Stage

SERVICE = Path(__file__).with_name("load_seq_service.py")


@contextmanager
def racy_service(tmp: Path, repeat_at: int) -> Iterator[tuple[str, Path]]:
    port_file, log = tmp / "port", tmp / "served.tsv"
    proc = subprocess.Popen(
        [sys.executable, str(SERVICE), "--port-file", str(port_file), "--log", str(log), "--repeat-at", str(repeat_at)]
    )
    try:
        deadline = time.monotonic() + 15
        while not port_file.exists() or not port_file.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port_file.read_text()}/reload", log
    finally:
        proc.terminate()
        proc.wait(5)


def _run(tmp_path: Path, url: str, concurrency: int) -> tuple[int, Path]:
    profile = {
        "target": url,
        "calls": 400,
        "concurrency": concurrency,
        "tick": 0.1,
        "http": {"extract": {"load_seq": "$.load_seq", "model": "header:X-Model"}},
        "record": {"every": 100},
        "gates": [
            {"name": "seq", "metric": "record[load_seq]", "condition": "strictly_increasing"},
            {"name": "uniq", "metric": "record[load_seq]", "condition": "unique"},
            {"name": "last", "metric": "record[load_seq]", "condition": "max >= 1"},
        ],
    }
    stage = Stage(load_profile(None, profile), out_dir=tmp_path / "runs")
    run_dir = stage.prepare()
    return stage.run(), run_dir


def _served(log: Path) -> list[tuple[str, int]]:
    return [(rid, int(seq)) for rid, seq in (line.split("\t") for line in log.read_text().splitlines())]


def test_racy_load_seq_fails_the_extract_gate_naming_the_request_id(tmp_path: Path) -> None:
    with racy_service(tmp_path, repeat_at=250) as (url, log):
        code, run_dir = _run(tmp_path, url, concurrency=1)
    served = _served(log)
    assert len(served) == 400
    dup_rid, dup_seq = served[250]
    assert served[249][1] == dup_seq  # what the service itself did
    assert code == 1
    rows = {r["gate"]: r for r in json.loads((run_dir / "summary.json").read_text())["sections"]["gates"]["rows"]}
    assert rows["seq"]["status"] == "fail" and rows["uniq"]["status"] == "fail"
    assert rows["seq"]["observed"] == 1 and rows["seq"]["samples"] == 400
    assert rows["last"]["status"] == "pass"
    failures = (run_dir / "failures.md").read_text()
    assert f"call 250 (request id {dup_rid}): load_seq {dup_seq} not above {dup_seq} of call 249" in failures
    assert f"call 250 (request id {dup_rid}): load_seq = {dup_seq} already recorded by call 249" in failures
    kept = [json.loads(line) for line in (run_dir / "answers.jsonl").read_text().splitlines()]
    assert [(a["call"], a["answer"]) for a in kept] == [(i, {"load_seq": served[i][1]}) for i in (0, 100, 200, 300)]


def test_a_correct_service_passes_under_concurrency(tmp_path: Path) -> None:
    """Overlapping calls are not ordered: a server that never repeats passes at concurrency 8."""
    with racy_service(tmp_path, repeat_at=-1) as (url, log):
        code, run_dir = _run(tmp_path, url, concurrency=8)
    assert len(_served(log)) == 400
    rows = {r["gate"]: r for r in json.loads((run_dir / "summary.json").read_text())["sections"]["gates"]["rows"]}
    assert rows["seq"]["status"] == "pass" and rows["seq"]["samples"] == 400, rows["seq"]
    assert rows["uniq"]["status"] == "pass"
    assert code == 0


def test_a_duplicate_under_concurrency_is_still_found_by_unique(tmp_path: Path) -> None:
    with racy_service(tmp_path, repeat_at=300) as (url, log):
        code, run_dir = _run(tmp_path, url, concurrency=8)
    served = _served(log)
    dup_seq = served[300][1]
    holders = {rid for rid, seq in served if seq == dup_seq}
    assert len(holders) == 2
    failures = (run_dir / "failures.md").read_text()
    named = [rid for rid in holders if f"(request id {rid}): load_seq = {dup_seq} already recorded" in failures]
    assert len(named) == 1  # the later of the two answers is the one that broke uniqueness
    assert code == 1


def test_extract_form_is_checked() -> None:
    with pytest.raises(UsageError, match=r"extract.x = 'load_seq': expected"):
        load_profile(None, {"target": "http://127.0.0.1:1/", "calls": 1, "http": {"extract": {"x": "load_seq"}}})
