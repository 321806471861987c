"""Detach and attach in a real terminal (tmux): the stage outlives every TUI and every terminal.

- ``demo --detach``, ``attach`` in tmux, pause and resume from the TUI, kill the tmux
  server (the terminal is gone), ``attach`` again, abort: events.jsonl shows each
  action, the report is complete and says exit code 3;
- the TUI of ``demo``: the ``d`` key detaches (the CLI exits 0, the stage goes on);
- the TUI of ``demo`` loses its terminal (tmux killed: SIGHUP): the stage goes on
  headless and ends with a full report.

Each test uses a private tmux server (always killed) and its own stage registry; a stage
left running by a failed test is stopped by its pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soakwatch.control.client import ControlClient
from soakwatch.control.registry import pid_alive, socket_answers
from soakwatch.core.events import read_events
from tests.e2e.test_tmux_demo import Tmux, stage_pid, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

#: 5000 demo calls at 40 calls/s: the stage ends by itself in about two minutes if a test fails midway
LONG_CALLS = 5000
#: a stage that ends by itself in about five seconds
SHORT_CALLS = 200
WAIT = 30.0


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of every soakwatch process here: a terminal, and a registry of our own."""
    env = {"TERM": "xterm-256color", "COLORTERM": "truecolor", "PATH": os.environ.get("PATH", "")}
    for key in ("HOME", "LANG", "LC_ALL", "VIRTUAL_ENV"):
        if key in os.environ:
            env[key] = os.environ[key]
    env["SOAKWATCH_STATE_DIR"] = str(tmp_path / "state")
    return env


@pytest.fixture
def tmuxes() -> Iterator[list[Tmux]]:
    made: list[Tmux] = []
    try:
        yield made
    finally:
        for t in made:
            t.kill()


@pytest.fixture
def stop_left_over(tmp_path: Path) -> Iterator[None]:
    """Stop any stage a failed test left running (by the pid in its events)."""
    yield
    for events in (tmp_path / "runs").glob("*/events.jsonl"):
        ends = [e for e in read_events(events) if e["kind"] == "stage_end"]
        if not ends and (pid := stage_pid(events.parent)) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)


def soakwatch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "soakwatch", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def operators(run_dir: Path) -> list[tuple[str, str]]:
    return [(e["action"], e["source"]) for e in read_events(run_dir / "events.jsonl") if e["kind"] == "operator"]


def first(run_dir: Path, kind: str, **match: Any) -> dict[str, Any] | None:
    for e in read_events(run_dir / "events.jsonl"):
        if e["kind"] == kind and all(e.get(k) == v for k, v in match.items()):
            return e
    return None


def attach_in_tmux(tmuxes: list[Tmux], run_dir: Path, exit_file: Path, env: dict[str, str]) -> Tmux:
    tmux = Tmux()
    tmuxes.append(tmux)
    tmux.start(f"sh -c '{sys.executable} -m soakwatch attach {run_dir}; echo $? > {exit_file}'", env)
    wait_for(lambda: "RUNNING" in (p := tmux.pane()) and "Pause" in p, "the attached TUI", tmux)
    return tmux


@pytest.mark.usefixtures("stop_left_over")
def test_detach_attach_pause_resume_hang_up_attach_again_abort(
    tmuxes: list[Tmux], tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "runs"
    started = soakwatch("demo", "--detach", "--calls", str(LONG_CALLS), "--out-dir", str(out), env=env)
    assert started.returncode == 0, started.stderr
    run_dir = Path(started.stdout.splitlines()[0])
    assert run_dir.parent == out and "soakwatch attach" in started.stderr
    assert socket_answers(run_dir)
    with ControlClient(run_dir) as client:
        pid = int(client.request("hello")["info"]["pid"])
    ps = soakwatch("ps", env=env)
    assert str(run_dir) in ps.stdout and str(pid) in ps.stdout

    first_exit = tmp_path / "attach1"
    tmux = attach_in_tmux(tmuxes, run_dir, first_exit, env)
    tmux.keys("p")
    wait_for(lambda: first(run_dir, "operator", action="pause"), "pause in events.jsonl", tmux)
    wait_for(lambda: "PAUSED" in tmux.pane(), "PAUSED on screen", tmux)
    tmux.keys("p")
    wait_for(lambda: first(run_dir, "operator", action="resume"), "resume in events.jsonl", tmux)
    wait_for(lambda: "RUNNING" in tmux.pane(), "RUNNING again", tmux)

    tmux.kill()  # the terminal is gone (as when an SSH connection drops)
    assert pid_alive(pid) and socket_answers(run_dir)
    scripted = soakwatch("ctl", str(run_dir), "auto-abort", "on", env=env)  # meanwhile, from a script
    assert scripted.returncode == 0 and scripted.stdout.strip() == "auto_abort: ok"
    assert first(run_dir, "stage_end") is None

    second_exit = tmp_path / "attach2"
    tmux = attach_in_tmux(tmuxes, run_dir, second_exit, env)
    tmux.keys("a")
    wait_for(lambda: "Abort stage demo" in tmux.pane(), "the abort dialog", tmux)
    tmux.keys("y")
    end = wait_for(lambda: first(run_dir, "stage_end"), "stage_end in events.jsonl", tmux)
    assert end["state"] == "ABORTED" and end["exit_code"] == 3
    wait_for(lambda: "ABORTED" in tmux.pane(), "ABORTED on screen", tmux)
    tmux.keys("q")
    code = wait_for(lambda: second_exit.exists() and second_exit.read_text().strip(), "attach to exit", tmux)
    assert code == "3"  # attach exits with the code of the stage it saw end

    # who did it: the attached TUI, a script through ctl, the attached TUI again
    assert operators(run_dir) == [("pause", "attached tui"), ("resume", "attached tui"), ("auto_abort", "ctl"),
                                  ("abort", "attached tui")]  # fmt: skip
    assert end["reason"] == "abort by attached tui"
    clients = [(e["kind"], e["client"]) for e in read_events(run_dir / "events.jsonl") if "client" in e]
    # the first view left when its terminal was killed: a detach in the evidence; ctl and a second view came
    assert clients[0] == ("client_attached", "attached tui") and ("client_detached", "attached tui") in clients
    assert clients.count(("client_attached", "attached tui")) == 2 and ("client_attached", "ctl") in clients
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is True and summary["exit_code"] == 3 and summary["state"] == "ABORTED"
    assert [a.split()[1] for a in summary["operator_actions"]] == ["pause", "resume", "auto_abort", "abort"]
    wait_for(lambda: not pid_alive(pid), "the stage process to exit", tmux)
    assert "no soakwatch stage is running" in soakwatch("ps", env=env).stdout


@pytest.mark.usefixtures("stop_left_over")
def test_the_d_key_detaches_a_run_and_the_stage_goes_on(
    tmuxes: list[Tmux], tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "runs"
    exit_file = tmp_path / "exit_code"
    tmux = Tmux()
    tmuxes.append(tmux)
    tmux.start(
        f"sh -c '{sys.executable} -m soakwatch demo --calls {LONG_CALLS} --out-dir {out}; echo $? > {exit_file}'", env
    )
    wait_for(lambda: "RUNNING" in (p := tmux.pane()) and "Pause" in p, "the TUI", tmux)
    (run_dir,) = out.iterdir()
    tmux.keys("d")
    code = wait_for(lambda: exit_file.exists() and exit_file.read_text().strip(), "the CLI to exit", tmux)
    assert code == "0"
    assert f"soakwatch attach {run_dir}" in tmux.pane().replace("\n", "")
    assert socket_answers(run_dir) and first(run_dir, "stage_end") is None
    stopped = soakwatch("ctl", str(run_dir), "abort", env=env)
    assert stopped.returncode == 0 and stopped.stdout.strip() == "abort: ok"
    end = wait_for(lambda: first(run_dir, "stage_end"), "stage_end", tmux)
    assert end["exit_code"] == 3


@pytest.mark.usefixtures("stop_left_over")
def test_a_tui_run_that_loses_its_terminal_ends_with_a_full_report(
    tmuxes: list[Tmux], tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "runs"
    tmux = Tmux()
    tmuxes.append(tmux)
    tmux.start(f"{sys.executable} -m soakwatch demo --calls {SHORT_CALLS} --out-dir {out}", env)
    wait_for(lambda: "RUNNING" in tmux.pane(), "the TUI", tmux)
    (run_dir,) = out.iterdir()
    tmux.kill()  # SIGHUP to the CLI: its terminal is gone
    end = wait_for(lambda: first(run_dir, "stage_end"), "the stage to end by itself", tmux, timeout=60)
    assert end["state"] == "PASSED" and end["calls"] == SHORT_CALLS
    pid = stage_pid(run_dir)
    assert pid is not None
    wait_for(lambda: not pid_alive(pid), "the stage to write its reports and exit", tmux)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is True and summary["calls"] == SHORT_CALLS
    assert "stage demo ended: PASSED" in (run_dir / "stage.log").read_text()


@pytest.mark.usefixtures("stop_left_over")
def test_stop_on_hangup_stops_a_tui_run_gracefully_when_its_terminal_goes(
    tmuxes: list[Tmux], tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "runs"
    tmux = Tmux()
    tmuxes.append(tmux)
    tmux.start(f"{sys.executable} -m soakwatch demo --calls {LONG_CALLS} --stop-on-hangup --out-dir {out}", env)
    wait_for(lambda: "RUNNING" in tmux.pane(), "the TUI", tmux)
    (run_dir,) = out.iterdir()
    tmux.kill()  # SIGHUP to the CLI, which passes it on to the stage
    end = wait_for(lambda: first(run_dir, "stage_end"), "the stage to stop", tmux, timeout=60)
    assert end["state"] == "INTERRUPTED" and end["exit_code"] == 130 and end["calls"] < LONG_CALLS
    assert first(run_dir, "signal", signal="SIGHUP") is not None
    pid = stage_pid(run_dir)
    assert pid is not None
    wait_for(lambda: not pid_alive(pid), "the stage to write its reports and exit", tmux)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is True and summary["state"] == "INTERRUPTED"
