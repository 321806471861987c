"""`run --detach`: the stage in the background, out of this terminal's reach; exit 2 when it cannot start."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from soakwatch.cli import main
from soakwatch.control.registry import pid_alive, socket_answers
from tests.detach_harness import cli, detached_fixture, kinds, noop_args, registry_fixture, until  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("control_transport")  # every test over the Unix socket and over tcp


def test_detach_prints_the_run_dir_and_leaves_the_stage_running(detached: Callable[..., tuple[Path, int]]) -> None:
    run_dir, pid = detached()
    assert socket_answers(run_dir) and pid_alive(pid)
    assert pid != os.getpid() and os.getsid(pid) == pid  # a session of its own: no terminal's hang-up reaches it
    assert os.readlink(f"/proc/{pid}/fd/0") == os.devnull
    assert os.readlink(f"/proc/{pid}/fd/1") == str(run_dir / "stage.log")
    until(lambda: "RUNNING" in (run_dir / "stage.log").read_text(), "status lines in stage.log")
    done = cli(["ctl", str(run_dir), "abort"])
    assert done.returncode == 0 and done.stdout.strip() == "abort: ok"
    until(lambda: not pid_alive(pid), "the stage to end")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] and summary["exit_code"] == 3
    assert [e["source"] for e in kinds(run_dir, "operator")] == ["ctl"]
    assert summary["reason"] == "abort by ctl"


def test_detach_says_why_a_stage_cannot_start(sandbox: Path, tmp_path: Path, registry: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    args = noop_args(sandbox, tmp_path / "runs", "--detach")
    args[args.index("sw_targets:noop")] = "no_such_module:fn"
    assert main(args) == 2
    assert "no_such_module" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("*/control.sock"))


def test_a_bad_flag_is_refused_before_anything_starts(sandbox: Path, tmp_path: Path, registry: Path) -> None:
    done = cli([*noop_args(sandbox, tmp_path / "runs", "--detach"), "--set", "no_such_field=1"])
    assert done.returncode == 2 and "no_such_field" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_attach_needs_a_run_dir_and_a_terminal(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["attach", str(tmp_path / "nope")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main(["attach", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    (tmp_path / "timeline.csv").write_text("t,calls\n")
    assert main(["attach", str(tmp_path)]) == 2  # pytest's stdout is no terminal
    assert "attach needs a terminal" in capsys.readouterr().err
