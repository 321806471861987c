"""Must-show: the three-node example in a real terminal (tmux, 120×40): the nodes panel shows the
committed heights moving, node1 DEAD while the chaos plan has it killed, then ALIVE again with one
restart; the stage ends PASSED and `q` closes the UI.

What the screen says is checked against what the nodes wrote themselves (their epoch reports)
and against the run dir's events.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from soakwatch.core.events import read_events
from tests.e2e.test_tmux_demo import COLS, ROWS, Tmux, _quote, stage_pid, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "three_node"
#: node1 is killed 8 s in and started again 4 s later; the stage lasts 24 s in all
PLAN = """
[[chaos]]
name = "kill-node1"
action = "kill_node"
node = "node1"
at = "8s"
duration = "4s"
"""
DURATION = "24s"
#: a node's row in the nodes panel: id, state, restarts, report age, then the report fields
ROW = re.compile(r"│ (node\d)\s+(ALIVE|PAUSED|DEAD|STARTING|STOPPED|GAVE UP)\s+(\d+)\s+(\S+(?: ago)?)\s+(\d+)")


@pytest.fixture
def term() -> Iterator[Tmux]:
    t = Tmux()
    try:
        yield t
    finally:
        t.kill()


def rows(screen: str) -> dict[str, tuple[str, int, int]]:
    """node id → (state, restarts, committed height) as the nodes panel shows them."""
    found: dict[str, tuple[str, int, int]] = {}
    for m in ROW.finditer(screen):
        found[m.group(1)] = (m.group(2), int(m.group(3)), int(m.group(5)))
    return found


def test_three_nodes_in_tmux_show_heights_and_a_killed_node(term: Tmux, tmp_path: Path) -> None:
    tmux = term
    root = tmp_path / "three_node"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "__pycache__"))
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    out = tmp_path / "runs"
    exit_file = tmp_path / "exit_code"
    cmd = (
        f"{sys.executable} -m soakwatch run --profile {EXAMPLE / 'profile.toml'} --root {root} "
        f"--chaos-plan {plan} --duration {DURATION} --out-dir {out}"
    )
    # the window is COLS×ROWS; the size is also said in the environment, which is read first, because
    # a pane started by a server that pytest spawned can report the 80×24 default on its first query
    env = {"TERM": "xterm-256color", "COLORTERM": "truecolor", "PATH": os.environ.get("PATH", "")}
    env |= {"COLUMNS": str(COLS), "LINES": str(ROWS)}
    for key in ("HOME", "LANG", "LC_ALL", "VIRTUAL_ENV"):
        if key in os.environ:
            env[key] = os.environ[key]
    tmux.start(f"sh -c {_quote(cmd + f'; echo $? > {exit_file}')}", env)
    run_dir: Path | None = None
    try:
        run_dir = wait_for(lambda: next(iter(out.glob("three_node-*")), None), "the run dir", tmux)
        # watch the screen the way an operator does, until the verdict: what did node1 go through?
        seen: list[dict[str, tuple[str, int, int]]] = []

        def watch() -> bool:
            screen = tmux.pane()
            if (found := rows(screen)).get("node1"):
                seen.append(found)
            return "PASSED" in screen

        wait_for(watch, "the verdict", tmux, timeout=90)
        assert seen and set(seen[0]) == {"node1", "node2", "node3"}
        first = seen[0]
        # the heights move: each node showed a higher committed height later on
        assert all(max(s[n][2] for s in seen if n in s) > first[n][2] for n in first)
        states = [s["node1"][:2] for s in seen if "node1" in s]
        dead_at = states.index(("DEAD", 0))  # killed by the plan: shown dead, not with its last RSS
        assert ("ALIVE", 1) in states[dead_at:]  # then started again, one restart
        assert all(s["node2"][0] == "ALIVE" for s in seen if "node2" in s and s["node2"][0] != "STOPPED")
        tmux.keys("q")
        code = wait_for(lambda: exit_file.exists() and exit_file.read_text().strip(), "soakwatch to exit", tmux)
        assert code == "0"
    finally:
        if run_dir is not None and (pid := stage_pid(run_dir)) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # only if the test failed midway: stop the stage it started
    # what the screen showed is what happened: node1 killed once by the plan and restarted once
    events = list(read_events(run_dir / "events.jsonl"))
    killed = [
        e for e in events if e["kind"] == "node_exit" and e.get("node") == "node1" and e.get("signal") == "SIGKILL"
    ]
    assert len(killed) == 1 and killed[0]["expected"] is True
    assert [(e["node"], e["restarts"]) for e in events if e["kind"] == "node_restart"] == [("node1", 1)]
    # and the heights shown were heights the nodes reported
    reported = {int(p.stem.split("-")[1]) for p in (root / "data" / "node2" / "reports").glob("epoch-*.json")}
    assert first["node2"][2] in reported
