"""run_config.json as a reproducible record: git state of the root, the target's packages, host, seed, labels."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from soakwatch.config.profile import load_profile
from soakwatch.stage import Stage
from tests.helpers import only_run_dir, run_cli

#: module names are unique to each test: an inline run imports them into the test process for good
TARGET = """
import os
import PKG

def run(case):
    with open(os.path.join(os.path.dirname(__file__), "seen-%d.txt" % os.getpid()), "a") as fh:
        fh.write("%d\\n" % case["i"])
"""


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _repo(tmp_path: Path, pkg: str) -> Path:
    """A git repository holding a local package with its own distribution metadata, and a target using it."""
    root = tmp_path / "repo"
    (root / pkg).mkdir(parents=True)
    (root / pkg / "__init__.py").write_text('__version__ = "2.7.1"\n')
    dist = root / f"{pkg}-2.7.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {pkg}\nVersion: 2.7.1\n")
    (dist / "top_level.txt").write_text(f"{pkg}\n")
    (root / f"tgt_{pkg}.py").write_text(TARGET.replace("PKG", pkg))
    (root / "cases.jsonl").write_text("".join(json.dumps({"i": i}) + "\n" for i in range(20)))
    _git(root, "init", "-q")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "engine 2.7.1")
    return root


def _run(root: Path, out: Path, **over: object) -> Path:
    base: dict[str, object] = {"target": "tgt:run", "root": str(root), "cases": str(root / "cases.jsonl")}
    base.update({"calls": 20, "tick": 0.1})
    base.update(over)
    stage = Stage(load_profile(None, base), out_dir=out)
    run_dir = stage.prepare()
    assert stage.run() == 0
    return run_dir


def _seen(root: Path) -> list[int]:
    files = sorted(root.glob("seen-*.txt"))
    order = [int(x) for f in files for x in f.read_text().split()]
    for f in files:
        f.unlink()
    return order


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_run_config_lists_the_roots_commit_and_the_targets_package(tmp_path: Path, isolation: str) -> None:
    pkg = f"enginepkg_{isolation}"
    root = _repo(tmp_path, pkg)
    run_dir = _run(root, tmp_path / "runs", isolation=isolation, target=f"tgt_{pkg}:run")
    cfg = json.loads((run_dir / "run_config.json").read_text())
    assert cfg["root_git"]["commit"] == _git(root, "rev-parse", "HEAD")
    assert cfg["root_git"]["dirty"] is False  # the seen-*.txt the target wrote are untracked
    assert cfg["target_packages"] == {pkg: "2.7.1"}
    host = cfg["host"]
    assert host["cpu_count"] >= 1 and host["ram_mb"] > 0 and host["cpu_model"] and host["os"]
    assert isinstance(cfg["seed"], int) and cfg["profile"]["seed"] == cfg["seed"]
    (root / pkg / "__init__.py").write_text('__version__ = "2.7.2"\n')
    rerun = _run(root, tmp_path / "runs2", isolation=isolation, target=f"tgt_{pkg}:run")
    dirty = json.loads((rerun / "run_config.json").read_text())
    assert dirty["root_git"]["dirty"] is True


def test_not_a_repository_has_no_git_state(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "t.py").write_text("def run():\n    pass\n")
    stage = Stage(load_profile(None, {"target": "t:run", "root": str(root), "calls": 3}), out_dir=tmp_path / "r")
    run_dir = stage.prepare()
    stage.run()
    cfg = json.loads((run_dir / "run_config.json").read_text())
    assert cfg["root_git"] is None and cfg["target_packages"] == {}


def test_the_seed_fixes_the_shuffled_case_order(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "orderpkg").mkdir()
    (root / "orderpkg" / "__init__.py").write_text("")
    (root / "tgt_order.py").write_text(TARGET.replace("PKG", "orderpkg"))
    (root / "cases.jsonl").write_text("".join(json.dumps({"i": i}) + "\n" for i in range(20)))
    orders = []
    for n, seed in enumerate((7, 7, 8)):
        over = {"seed": seed, "case_order": "shuffle", "isolation": "inline", "target": "tgt_order:run"}
        _run(root, tmp_path / f"runs{n}", **over)
        orders.append(_seen(root))
    assert sorted(orders[0]) == list(range(20))
    assert orders[0] == orders[1]  # the same seed, the same order
    assert orders[0] != orders[2] and orders[0] != list(range(20))


def test_labels_are_recorded_and_compare_shows_them(sandbox: Path, tmp_path: Path) -> None:
    runs = []
    for label in ("real", "mock"):
        out = tmp_path / label
        args = ["run", "--target", "sw_targets:noop", "--calls", "5", "--isolation", "inline", "--no-tui"]
        res = run_cli([*args, "--out-dir", str(out), "--label", f"llm={label}", "--seed", "42"], sandbox)
        assert res.returncode == 0, res.stderr
        runs.append(only_run_dir(out))
    cfg = json.loads((runs[0] / "run_config.json").read_text())
    assert cfg["labels"] == {"llm": "real"} and cfg["seed"] == 42
    res = run_cli(["compare", str(runs[0]), str(runs[1])], sandbox)
    assert "llm=real" in res.stdout and "llm=mock" in res.stdout
    bad = run_cli(["run", "--target", "sw_targets:noop", "--calls", "1", "--label", "nolabel"], sandbox)
    assert bad.returncode == 2 and "--label" in bad.stderr
