"""`soakwatch ps`: running stages from the per-user registry; dead entries are dropped."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from soakwatch.control import registry as reg
from soakwatch.control.ps import print_ps, ps_rows
from tests.detach_harness import cli, detached_fixture, registry_fixture, until  # noqa: F401 (fixtures)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_ps_lists_a_running_stage_and_forgets_it_when_it_ends(
    detached: Callable[..., tuple[Path, int]], registry: Path
) -> None:
    run_dir, pid = detached()
    (row,) = ps_rows()
    assert (row.stage, row.pid, row.run_dir) == ("adhoc", pid, str(run_dir))
    assert row.state == "RUNNING" and row.calls is not None and row.elapsed is not None
    out = io.StringIO()
    assert print_ps(out) == 0
    header, line = out.getvalue().splitlines()
    assert header.split() == ["STAGE", "STATE", "CALLS", "ELAPSED", "PID", "RUN", "DIR"]
    assert line.split()[0:2] == ["adhoc", "RUNNING"] and line.endswith(str(run_dir))
    assert cli(["ctl", str(run_dir), "abort"]).returncode == 0
    until(lambda: not list(registry.glob("*.json")), "the stage to remove its entry")
    assert ps_rows() == []
    assert cli(["ps"]).stdout.strip() == "no soakwatch stage is running"


def test_ps_drops_dead_and_deaf_entries(registry: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    deaf = tmp_path / "deaf"
    for d in (gone, deaf):
        d.mkdir()
    assert reg.register(gone, "gone", pid=_dead_pid()) is not None
    assert reg.register(deaf, "deaf", pid=os.getpid()) is not None  # alive, but no control socket answers
    (registry / "torn.json").write_text("{not json")
    assert len(list(registry.glob("*.json"))) == 3
    assert reg.running() == []
    assert list(registry.glob("*.json")) == []


def test_registry_entry_and_its_directory(registry: Path, tmp_path: Path) -> None:
    path = reg.register(tmp_path, "x")
    assert path is not None and path.parent == registry
    assert registry.stat().st_mode & 0o777 == 0o700
    assert json.loads(path.read_text())["run_dir"] == str(tmp_path.resolve())
    reg.unregister(tmp_path)
    assert not path.exists()
    reg.unregister(tmp_path)  # twice is fine


def test_registry_dir_prefers_the_runtime_dir(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SOAKWATCH_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert reg.registry_dir() == tmp_path / "soakwatch" / "running"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert reg.registry_dir() == tmp_path / "home" / ".soakwatch" / "running"
