"""Log patterns: node logs, the target's output and watched files → log_match events, matches[...] counters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from soakwatch.collectors.logpatterns import EVENT_WINDOW_S, EVENTS_PER_WINDOW
from soakwatch.config.errors import UsageError
from soakwatch.config.profile import load_profile
from soakwatch.core.events import read_events
from soakwatch.stage import Stage

#: a node that works a while, says why it stops, and stops
HALTS = (
    "import sys, time; print('height 1', flush=True); time.sleep(0.4); "
    "print('ERROR block production halted: no quorum', file=sys.stderr, flush=True); time.sleep(0.2); sys.exit(1)"
)

#: a target that prints 'model unloaded after idle' on every 7th call and counts it itself
CHATTY = """
import os, sys
_n = 0
def run():
    global _n
    _n += 1
    if _n % 7 == 0:
        print("INFO model unloaded after idle", flush=True)
        with open(os.path.join(os.path.dirname(__file__), "said-%d.txt" % os.getpid()), "a") as fh:
            fh.write("1\\n")
"""


def _events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == kind]


def test_a_node_that_logs_halted_before_stopping_is_in_failures_md(tmp_path: Path) -> None:
    node = {
        "id": "n1",
        "command": ["{python}", "-c", HALTS],
        "restart": "never",
        "patterns": {"block production halted": "error", "height": "info"},
    }
    gates = [
        {"name": "alive", "metric": "processes", "condition": "alive"},
        {"name": "no halt", "metric": "matches[block production halted]", "condition": "max == 0"},
    ]
    data = {"root": str(tmp_path), "duration": 2.0, "nodes": [node], "gates": gates}
    stage = Stage(load_profile(None, data, ["tick=0.1"]), out_dir=tmp_path / "out", cwd=tmp_path)
    run_dir = stage.prepare()
    assert stage.run() == 1
    stderr = (run_dir / "nodes" / "n1" / "stderr.log").read_text()
    assert stderr.count("block production halted") == 1  # what the node itself wrote
    matches = _events(run_dir, "log_match")
    halted = [e for e in matches if e["pattern"] == "block production halted"]
    assert len(halted) == 1 and halted[0]["level"] == "error" and halted[0]["source"] == "n1"
    assert halted[0]["line"] == "ERROR block production halted: no quorum"
    rows = {r["gate"]: r for r in json.loads((run_dir / "summary.json").read_text())["sections"]["gates"]["rows"]}
    assert rows["no halt"]["status"] == "fail" and rows["no halt"]["observed"] == 1
    failures = (run_dir / "failures.md").read_text()
    assert "### Matching log lines" in failures
    assert "`stderr.log` [error] ERROR block production halted: no quorum" in failures


def test_target_output_matches_count_exactly_and_events_are_rate_limited(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "chatty.py").write_text(CHATTY)
    data = {
        "target": "chatty:run",
        "root": str(root),
        "calls": 700,
        "tick": 0.1,
        "watch": {"patterns": {"unloaded": "info"}},
        "gates": [{"name": "unloads", "metric": "matches[unloaded]", "condition": "max < 1000"}],
    }
    stage = Stage(load_profile(None, data), out_dir=tmp_path / "out")
    run_dir = stage.prepare()
    assert stage.run() == 0
    said = sum(len(f.read_text().split()) for f in root.glob("said-*.txt"))
    assert said == 100
    header, *rows = (run_dir / "timeline.csv").read_text().splitlines()
    last = dict(zip(header.split(","), rows[-1].split(","), strict=False))
    assert float(last["matches[unloaded]"]) == said
    events = _events(run_dir, "log_match")
    assert 1 <= len(events) < said  # rate-limited: a few per window, the rest counted
    assert all(e["source"] == "target" for e in events)
    summary = _events(run_dir, "log_match_summary")
    assert len(events) + (summary[0]["suppressed"] if summary else 0) == said  # every line shown or counted
    windows = 2 + int(float(last["t"]) // EVENT_WINDOW_S)
    assert len(events) <= EVENTS_PER_WINDOW * windows


def test_bad_pattern_and_unknown_matches_metric_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a regular expression"):
        load_profile(None, {"target": "x:y", "calls": 1, "watch": {"patterns": {"(unclosed": "error"}}})
    from soakwatch.gates import check_rules

    prof = load_profile(
        None,
        {
            "target": "x:y",
            "calls": 1,
            "watch": {"patterns": {"halted": "error"}},
            "gates": [{"name": "g", "metric": "matches[stopped]", "condition": "max == 0"}],
        },
    )
    with pytest.raises(Exception, match="no log pattern 'stopped'"):
        check_rules(prof)
