"""Supervised nodes in a real stage: exit codes, the restart policy, readiness, stopping, bad commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.errors import SandboxError, UsageError
from soakwatch.config.profile import load_profile
from soakwatch.core.events import read_events
from soakwatch.stage import EXIT_FAILED, EXIT_OK, Stage

#: a node that says hello, writes a ready file and runs until SIGTERM
RUNS = "import pathlib, sys, time; print('up', flush=True); pathlib.Path(sys.argv[1]).write_text('1'); time.sleep(60)"
#: a node that exits with code 3 after a moment
EXITS = "import sys, time; time.sleep(0.3); print('giving up', file=sys.stderr, flush=True); sys.exit(3)"
#: a node that ignores SIGTERM
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def stage(root: Path, out: Path, nodes: list[dict[str, Any]], **over: Any) -> Stage:
    data = {"root": str(root), "duration": 3.0, "nodes": nodes, **over}
    return Stage(load_profile(None, data, ["tick=0.1"]), out_dir=out, cwd=root)


def events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == kind]


def test_a_node_that_exits_is_reported_and_restarted_until_max_restarts(tmp_path: Path) -> None:
    node = {
        "id": "n1",
        "command": ["{python}", "-c", EXITS],
        "restart": "on-failure",
        "max_restarts": 2,
        "backoff": 0.1,
    }
    gates = [{"name": "alive", "metric": "processes", "condition": "alive"}]
    st = stage(tmp_path, tmp_path / "out", [node], gates=gates, duration=4.0)
    run_dir = st.prepare()
    assert st.run() == EXIT_FAILED
    exits = events(run_dir, "node_exit")
    assert [(e["code"], e["expected"]) for e in exits] == [(3, False)] * 3
    assert "giving up" in exits[0]["msg"]  # the stderr tail says why
    restarts = events(run_dir, "node_restart")
    assert [(e["reason"], e["restarts"]) for e in restarts] == [("policy", 1), ("policy", 2)]
    assert len(events(run_dir, "node_gave_up")) == 1
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "FAILED" and summary["calls"] == 0
    header, *rows = (run_dir / "timeline.csv").read_text().splitlines()
    cols = header.split(",")
    last = dict(zip(cols, rows[-1].split(","), strict=False))
    assert float(last["restarts[n1]"]) == 2 and float(last["alive[n1]"]) == 0
    stderr = (run_dir / "nodes" / "n1" / "stderr.log").read_text()
    assert stderr.count("--- soakwatch: start") == 3 and stderr.count("giving up") == 3


def test_running_nodes_are_watched_and_stopped_at_the_end(tmp_path: Path) -> None:
    nodes: list[dict[str, Any]] = [
        {
            "id": "n1",
            "command": ["{python}", "-c", RUNS, "{root}/run/ready-{id}"],
            "ready": {"file": "run/ready-{id}", "timeout": 10},
        },
        {"id": "n2", "command": ["{python}", "-c", STUBBORN], "stop_grace": 0.5},
    ]
    (tmp_path / "run").mkdir()
    gates = [{"name": "alive", "metric": "processes", "condition": "alive"}]
    st = stage(tmp_path, tmp_path / "out", nodes, gates=gates, duration=2.0)
    run_dir = st.prepare()
    assert st.run() == EXIT_OK
    assert {e["node"] for e in events(run_dir, "node_ready")} == {"n1", "n2"}
    exits = {e["node"]: e for e in events(run_dir, "node_exit")}
    assert exits["n1"]["expected"] and exits["n1"]["signal"] == "SIGTERM"  # python's default: die of it
    assert exits["n2"]["signal"] == "SIGKILL" and exits["n2"]["expected"]
    for nid in ("n1", "n2"):
        folder = run_dir / "nodes" / nid
        assert (folder / "stdout.log").is_file() and (folder / "stderr.log").is_file()
        rows = (folder / "rss.csv").read_text().splitlines()
        assert rows[0].startswith("t,pid,rss_mb") and len(rows) >= 2
    assert "up" in (run_dir / "nodes" / "n1" / "stdout.log").read_text()


def test_a_node_that_never_gets_ready_fails_the_stage(tmp_path: Path) -> None:
    node = {"id": "n1", "command": ["{python}", "-c", STUBBORN], "ready": {"file": "never", "timeout": 0.5}}
    st = stage(tmp_path, tmp_path / "out", [node], duration=30.0)
    run_dir = st.prepare()
    assert st.run() == EXIT_FAILED
    assert "not ready after 0.5s" in events(run_dir, "node_not_ready")[0]["msg"]
    assert events(run_dir, "stage_end")[0]["t"] < 10


@pytest.mark.parametrize(
    ("over", "error", "words"),
    [
        ({"command": ["no-such-program-xyz"]}, UsageError, ["nodes[0].command", "no-such-program-xyz"]),
        ({"command": ["./missing.sh"]}, UsageError, ["nodes[0].command", "not found"]),
        ({"cwd": "../elsewhere"}, SandboxError, ["nodes[0].cwd", "outside the sandbox"]),
        ({"report_dir": "/tmp/x"}, SandboxError, ["nodes[0].report_dir"]),
    ],
)
def test_bad_nodes_are_refused_before_anything_starts(
    tmp_path: Path, over: dict[str, Any], error: type[Exception], words: list[str]
) -> None:
    node = {"id": "n1", "command": ["{python}", "-c", RUNS], **over}
    st = stage(tmp_path, tmp_path / "out", [node])
    with pytest.raises(error) as err:
        st.prepare()
    for w in words:
        assert w in str(err.value)
    run_dir = next((tmp_path / "out").iterdir())
    assert not events(run_dir, "node_start")
