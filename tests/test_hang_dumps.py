"""One stack dump per hang, named by the call that hung (issue: sweeps and isolation say what they measured)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import only_run_dir, run_cli

pytestmark = pytest.mark.e2e

TARGET = """
import os
import time
from pathlib import Path


def hangs_twice(case=None):
    root = Path(os.environ["SOAKWATCH_ROOT"])
    with (root / "started.txt").open("a") as fh:  # survives the worker being replaced
        fh.write("1\\n")
    n = len((root / "started.txt").read_text().splitlines())
    if n in (5, 12):
        with (root / "hung.txt").open("a") as fh:
            fh.write(f"{n}\\n")
        time.sleep(30)
    return n
"""


def test_two_hangs_of_one_slot_are_two_dump_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "hanger.py").write_text(TARGET)
    out = tmp_path / "runs"
    args = ["run", "--target", "hanger:hangs_twice", "--root", str(root), "--calls", "20", "--timeout", "1"]
    r = run_cli([*args, "--isolation", "process", "--no-tui", "--out-dir", str(out)], cwd=tmp_path, timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(out)
    assert len((root / "hung.txt").read_text().split()) == 2  # the target's own count
    hangs = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    hangs = [e for e in hangs if e["kind"] == "hang"]
    assert len(hangs) == 2
    dumps = sorted((run_dir / "workers").glob("hang-*.txt"))
    assert [p.name for p in dumps] == sorted(f"hang-0-{e['call']}.txt" for e in hangs)
    for e, p in zip(sorted(hangs, key=lambda e: f"hang-0-{e['call']}.txt"), dumps, strict=True):
        assert e["stacks"] == str(p)
        text = p.read_text()
        assert text.count("Current thread") == 1 and "hangs_twice" in text  # exactly one dump each
