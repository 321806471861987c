"""Must-show: a three-node topology with a chaos plan that kills and restarts one node and pauses another.

The short version (30 s, default suite) and the full 2-minute one (``-m soak``, ``make soak``) run the
real CLI on examples/three_node and check the same things: restart counts, chaos events and per-node
logs in the run dir, gates exempt during the chaos windows, and the verdict.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from soakwatch.core.events import read_events
from tests.e2e.conftest import THREE_NODE_SHORT_GROUP
from tests.helpers import only_run_dir, run_cli

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "three_node"
NODES = ("node1", "node2", "node3")
SHORT_PLAN = """
[[chaos]]
name = "kill-node1"
action = "kill_node"
node = "node1"
at = "6s"
duration = "3s"

[[chaos]]
name = "pause-node2"
action = "pause_node"
node = "node2"
at = "12s"
duration = "7s"
"""


def _run(tmp_path: Path, duration: str | None, plan: Path | None) -> Path:
    root = tmp_path / "three_node"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "__pycache__"))
    out = tmp_path / "out"
    args = ["run", "--profile", str(EXAMPLE / "profile.toml"), "--root", str(root), "--no-tui", "--out-dir", str(out)]
    if duration:
        args += ["--duration", duration]
    args += ["--chaos-plan", str(plan or EXAMPLE / "chaos_plan.toml")]
    res = run_cli(args, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    return only_run_dir(out)


def _events(run_dir: Path, kind: str, **match: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in read_events(run_dir / "events.jsonl")
        if e["kind"] == kind and all(e.get(k) == v for k, v in match.items())
    ]


def _check(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "PASSED" and summary["calls"] == 0

    # node1 was killed (an expected exit), started again by the plan and counted; nobody else restarted
    killed = _events(run_dir, "node_exit", node="node1", signal="SIGKILL")
    assert len(killed) == 1 and killed[0]["expected"] is True
    assert [(e["reason"], e["restarts"]) for e in _events(run_dir, "node_restart")] == [("chaos", 1)]
    assert not [e for e in _events(run_dir, "node_exit") if not e["expected"]]

    # chaos windows in events.jsonl and chaos_events.log
    starts = {e["action"]: e for e in _events(run_dir, "chaos_start")}
    ends = {e["action"]: e for e in _events(run_dir, "chaos_end")}
    assert set(starts) == set(ends) == {"kill-node1", "pause-node2"}
    assert "restarted" in ends["kill-node1"]["detail"] and "SIGCONT" in ends["pause-node2"]["detail"]
    log = (run_dir / "chaos_events.log").read_text().splitlines()
    assert [line.split()[2] for line in log] == ["start", "end", "start", "end"]

    # per-node evidence
    for nid in NODES:
        folder = run_dir / "nodes" / nid
        for name in ("stdout.log", "stderr.log", "rss.csv"):
            assert (folder / name).is_file(), f"{nid}/{name}"
        assert len(list((folder / "report").glob("epoch-*.json"))) >= 5
        assert len((folder / "rss.csv").read_text().splitlines()) >= 10
    assert (run_dir / "nodes" / "node1" / "stdout.log").read_text().count("--- soakwatch: start") == 2

    # the summary's nodes section, rebuilt from the events
    nodes = summary["sections"]["nodes"]
    assert nodes["node1"]["starts"] == 2 and nodes["node1"]["restarts_chaos"] == 1
    assert nodes["node2"]["starts"] == nodes["node3"]["starts"] == 1
    assert all(n["unexpected_exits"] == 0 for n in nodes.values())
    assert "## Nodes" in (run_dir / "summary.md").read_text()

    # series the collectors attached by themselves
    with (run_dir / "timeline.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    cols = set(rows[0])
    for nid in NODES:
        assert {f"rss_mb[{nid}]", f"committed_height[{nid}]", f"alive[{nid}]", f"restarts[{nid}]"} <= cols
    assert max(float(r["restarts[node1]"] or 0) for r in rows) == 1
    heights = [float(r["committed_height[node3]"]) for r in rows if r["committed_height[node3]"]]
    assert heights[-1] > heights[0]

    # the fail gates were exempt while the chaos lasted; the same stall without exemption warned
    exempt = {e["gate"] for e in _events(run_dir, "gate", status="exempt")}
    assert {"node1 progress", "node2 progress"} <= exempt
    final = {e["gate"]: e["status"] for e in _events(run_dir, "gate_final")}
    assert final["node1 progress"] == final["node2 progress"] == final["nodes alive"] == "pass"
    assert final["node2 stall (no exemption)"] == "warn"
    assert "fail" not in final.values()


@pytest.mark.xdist_group(THREE_NODE_SHORT_GROUP)
def test_three_nodes_with_a_kill_and_a_pause_short(three_node_short_run: Path) -> None:
    _check(three_node_short_run)  # 30 s with SHORT_PLAN (tests/e2e/conftest.py)


@pytest.mark.soak
def test_three_nodes_with_a_kill_and_a_pause_two_minutes(tmp_path: Path) -> None:
    _check(_run(tmp_path, None, None))
