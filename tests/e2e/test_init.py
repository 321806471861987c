"""``soakwatch init KIND DIR``: each scaffold validates, matches the JSON Schema and runs headless to PASSED."""

from __future__ import annotations

import json
import socket
import tomllib
from pathlib import Path

import jsonschema
import pytest

from soakwatch.core.events import read_events
from tests.helpers import only_run_dir, run_cli

pytestmark = pytest.mark.e2e

#: (kind, the bound that keeps the run to a few seconds, the nodes that must get ready)
KINDS = [
    ("engine", ["--calls", "150"], []),
    ("topology", ["--duration", "4s"], ["seed", "peer"]),
    ("http", ["--duration", "3s"], ["service"]),
    ("openai", ["--duration", "3s"], ["model"]),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def scaffold(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / kind
    args = ["init", kind, str(folder)]
    if kind in ("http", "openai"):
        args += ["--port", str(free_port())]
    res = run_cli(args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"wrote {folder / f'{kind}.toml'}" in res.stdout
    profile = folder / f"{kind}.toml"
    text = profile.read_text()
    assert text.startswith("#:schema ./soakwatch.schema.json\n")
    schema = json.loads((folder / "soakwatch.schema.json").read_text())
    jsonschema.validate(tomllib.loads(text), schema)
    res = run_cli(["validate", f"{kind}.toml"], cwd=folder)
    assert res.returncode == 0, res.stderr
    return folder


@pytest.mark.parametrize(("kind", "bound", "nodes"), KINDS, ids=[k[0] for k in KINDS])
def test_a_scaffold_runs_headless_to_passed(tmp_path: Path, kind: str, bound: list[str], nodes: list[str]) -> None:
    folder = scaffold(tmp_path, kind)
    res = run_cli(["run", "--profile", f"{kind}.toml", "--no-tui", "--out-dir", "out", *bound], cwd=folder)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    run_dir = only_run_dir(folder / "out")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "PASSED"
    ready = {e["node"] for e in read_events(run_dir / "events.jsonl") if e["kind"] == "node_ready"}
    assert ready == set(nodes)
    if kind != "topology":
        assert summary["calls"] > 0 and summary["calls"] == summary["ok"] + summary["errors"] + summary["timeouts"]


def test_the_sweep_scaffold_sweeps_to_passed(tmp_path: Path) -> None:
    folder = scaffold(tmp_path, "sweep")
    axes = ["--set", "matrix.concurrency=[1, 2]", "--set", "matrix.size=[1, 2]"]
    res = run_cli(["sweep", "--profile", "sweep.toml", "--duration", "1s", "--out-dir", "out", *axes], cwd=folder)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    sweep_dir = only_run_dir(folder / "out")
    cells = json.loads((sweep_dir / "sweep.json").read_text())["cells"]
    assert len(cells) == 4
    assert {c["state"] for c in cells} == {"PASSED"}


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    scaffold(tmp_path, "engine")
    res = run_cli(["init", "engine", str(tmp_path / "engine")], cwd=tmp_path)
    assert res.returncode == 2
    assert "would overwrite cases.jsonl, engine.toml, soakwatch.schema.json (use --force)" in res.stderr
    assert "Traceback" not in res.stderr
    res = run_cli(["init", "engine", str(tmp_path / "engine"), "--force"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
