"""Cleaning a log is not drift (issue: no false PASS / no false FAIL).

A bounded log that soakwatch truncated refills to its bound in the next interval; that
interval is marked on the file's row ("truncated (…): 122 lines removed") and not judged
by Δ gates; the next whole interval is. Every snapshot's Δ is judged once, even when
several snapshots fall between two ticks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.gates_harness import Harness
from tests.helpers import only_run_dir, run_cli

ENGINE = Path(__file__).parent / "collectors_engine.py"
PRA = "state/pra_log.json"
#: lines of the engine's bounded PRA log once full: 30 entries of 4 lines (indent=1) and the brackets
PRA_FULL_LINES = len(json.dumps([{"call": 1, "pid": 1}] * 30, indent=1).splitlines())


def test_two_snapshots_in_one_tick_are_both_judged() -> None:
    h = Harness([{"name": "pra", "metric": f"delta_lines[{PRA}]", "condition": "last == 0"}])
    h.tick(**{f"delta_lines[{PRA}]": 0})
    h.set(f"delta_lines[{PRA}]", 252)  # snapshot at call 800
    h.set(f"delta_lines[{PRA}]", 0)  # snapshot at call 900, before the next tick
    h.tick()
    assert h.final("pra") == "fail"
    assert h.stop()["pra"]["observed"] == 252


def _events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    evs = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return [e for e in evs if e["kind"] == kind]


@pytest.mark.e2e
def test_a_truncated_bounded_log_is_marked_and_not_judged_then_judged_again(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "state").mkdir(parents=True)
    shutil.copy(ENGINE, root / "collectors_engine.py")
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "final"\ntarget = "collectors_engine:run"\ncalls = 1000\nisolation = "inline"\nconcurrency = 1\n'
        f'[watch]\nfiles = ["{PRA}"]\nsnapshot_every = 100\ntruncate_over_kb = 1\ntruncate_every = 400\n'
        f'[[gates]]\nname = "PRA drift"\nmetric = "delta_lines[{PRA}]"\ncondition = "last == 0"\n'
    )
    out = tmp_path / "runs"
    r = run_cli(["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out)], cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(out)
    truncs = [t for t in _events(run_dir, "truncate") if t["file"] == PRA]
    assert len(truncs) == 2  # at calls 400 and 800
    snaps = {s["calls"]: s["files"][PRA] for s in _events(run_dir, "snapshot")}
    for calls in (500, 900):  # the intervals the truncations fell in
        row = snaps[calls]
        assert row["truncated"] and row["removed"] == PRA_FULL_LINES == row["lines_before"]
        assert row["note"].endswith(f": {PRA_FULL_LINES} lines removed")
        assert row["delta"] == row["lines"] == PRA_FULL_LINES  # refilled to its bound, shown
    for calls in (200, 300, 400, 600, 700, 800, 1000):
        assert not snaps[calls]["truncated"] and snaps[calls]["delta"] == 0
    gate = json.loads((run_dir / "summary.json").read_text())["sections"]["gates"]["rows"][0]
    assert gate["status"] == "pass" and gate["samples"] == 7  # judged on every whole interval
    md = (run_dir / "summary.md").read_text()
    assert "lines removed; not judged)" in md
