"""``[record] every / sample``: answers.jsonl keeps sampled calls' cases and returned values."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.profile import load_profile
from soakwatch.stage import Stage

TARGET = """
import os
def run(case):
    answer = {"score": case["i"] * 3, "pid": os.getpid()}
    with open(os.path.join(os.path.dirname(__file__), "answered-%d.jsonl" % os.getpid()), "a") as fh:
        fh.write('{"i": %d, "score": %d}\\n' % (case["i"], answer["score"]))
    if case["i"] == 40:
        return "x" * 10000          # over max_bytes: cut
    if case["i"] == 60:
        return object()             # not JSON: kept as its repr
    return answer
"""


def _run(tmp_path: Path, name: str, **over: Any) -> tuple[Path, Path]:
    root = tmp_path / name
    root.mkdir()
    (root / f"ans_{name}.py").write_text(textwrap.dedent(TARGET))
    (root / "cases.jsonl").write_text("".join(json.dumps({"i": i}) + "\n" for i in range(100)))
    data = {"target": f"ans_{name}:run", "root": str(root), "cases": str(root / "cases.jsonl"), "calls": 100}
    data.update({"tick": 0.1, "seed": 5})
    data.update(over)
    stage = Stage(load_profile(None, data), out_dir=tmp_path / f"out-{name}")
    run_dir = stage.prepare()
    assert stage.run() == 0
    return root, run_dir


def _answers(run_dir: Path) -> dict[int, dict[str, Any]]:
    return {a["call"]: a for a in map(json.loads, (run_dir / "answers.jsonl").read_text().splitlines())}


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_every_20th_answer_is_kept_with_its_case(tmp_path: Path, isolation: str) -> None:
    root, run_dir = _run(tmp_path, isolation, isolation=isolation, record={"every": 20, "max_bytes": 200})
    lines = [line for f in root.glob("answered-*.jsonl") for line in f.read_text().splitlines()]
    own = {r["i"]: r["score"] for r in map(json.loads, lines)}
    assert len(own) == 100
    kept = _answers(run_dir)
    assert sorted(kept) == [0, 20, 40, 60, 80]
    for i in (0, 20, 80):
        assert kept[i]["case"] == {"i": i} and kept[i]["answer"]["score"] == own[i]
    assert kept[40]["answer"]["truncated"] == 10002 and len(kept[40]["answer"]["head"]) == 200
    assert kept[60]["answer"]["json"] is False and "object" in kept[60]["answer"]["repr"]


def test_sampling_is_seeded_and_off_by_default(tmp_path: Path) -> None:
    _, a = _run(tmp_path, "a", isolation="inline", record={"sample": 0.2})
    _, b = _run(tmp_path, "b", isolation="inline", record={"sample": 0.2})
    assert 5 <= len(_answers(a)) <= 40
    assert sorted(_answers(a)) == sorted(_answers(b))  # the same seed keeps the same calls
    _, off = _run(tmp_path, "off", isolation="inline")
    assert not (off / "answers.jsonl").exists()
