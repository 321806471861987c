"""The real `soakwatch demo` in a real terminal (tmux): the TUI opens, and p, c, t, a reach the stage.

The operator's keys go in with `tmux send-keys`; what they did is read back from the
pane and from the run dir (events.jsonl, chaos_events.log). The stage runs in its own
process (its own session, so tmux cannot take it down): the test stops it by pid if
anything is left running, and always kills its private tmux server.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from soakwatch.core.events import read_events

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

COLS, ROWS = 120, 40
#: 900 calls at the demo's 40 calls/s: the stage ends by itself in about 23 s if the test fails midway
CALLS = 900
WAIT = 30.0
T = TypeVar("T")


class Tmux:
    """A private tmux server (-L) with one detached session of a fixed size."""

    def __init__(self) -> None:
        self.socket = f"soakwatch-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.session = "demo"

    def _tmux(self, *args: str, check: bool = True) -> str:
        cmd = ["tmux", "-L", self.socket, "-f", "/dev/null", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=10).stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(COLS), "-y", str(ROWS),
            f"env {exports} {command}",
        )  # fmt: skip
        self._tmux("set-option", "-t", self.session, "remain-on-exit", "on")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def pane(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session, check=False)

    def kill(self) -> None:
        self._tmux("kill-server", check=False)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def wait_for(pred: Callable[[], T | None], what: str, tmux: Tmux, timeout: float = WAIT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the pane shows:\n{tmux.pane()}")
        time.sleep(0.1)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux()
    try:
        yield t
    finally:
        t.kill()


def stage_pid(run_dir: Path) -> int | None:
    for e in read_events(run_dir / "events.jsonl"):
        if e["kind"] == "stage_start":
            return int(e["pid"])
    return None


def test_demo_in_tmux_takes_p_c_t_a(tmux: Tmux, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    exit_file = tmp_path / "exit_code"
    command = f"sh -c '{sys.executable} -m soakwatch demo --calls {CALLS} --out-dir {out}; echo $? > {exit_file}'"
    env = {"TERM": "xterm-256color", "COLORTERM": "truecolor", "PATH": os.environ.get("PATH", "")}
    for key in ("HOME", "LANG", "LC_ALL", "VIRTUAL_ENV"):
        if key in os.environ:
            env[key] = os.environ[key]
    tmux.start(command, env)
    run_dir: Path | None = None
    try:
        run_dir = wait_for(lambda: next(iter(out.glob("demo-*")), None), "the run dir", tmux)
        events = run_dir / "events.jsonl"

        def operator(action: str) -> dict[str, Any] | None:
            return next((e for e in read_events(events) if e["kind"] == "operator" and e["action"] == action), None)

        def kind(name: str) -> dict[str, Any] | None:
            return next((e for e in read_events(events) if e["kind"] == name), None)

        wait_for(lambda: "RUNNING" in (p := tmux.pane()) and "Pause" in p, "the TUI", tmux)
        assert "demo" in tmux.pane()

        tmux.keys("p")
        wait_for(lambda: operator("pause"), "pause in events.jsonl", tmux)
        wait_for(lambda: "PAUSED" in tmux.pane(), "PAUSED on screen", tmux)
        tmux.keys("p")
        wait_for(lambda: operator("resume"), "resume in events.jsonl", tmux)

        tmux.keys("c")
        wait_for(lambda: "error_burst" in tmux.pane(), "the chaos dialog", tmux)
        tmux.keys("Home", "Enter")
        chaos = wait_for(lambda: kind("chaos_start"), "chaos_start in events.jsonl", tmux)
        assert chaos["action"] == "error_burst" and chaos["source"] == "operator"

        tmux.keys("t")
        wait_for(lambda: "truncate" in tmux.pane().lower() and "pra_log" in tmux.pane(), "the truncate dialog", tmux)
        tmux.keys("y")
        truncate = wait_for(lambda: operator("truncate"), "truncate in events.jsonl", tmux)

        tmux.keys("a")
        wait_for(lambda: "Abort stage demo" in tmux.pane(), "the abort dialog", tmux)
        tmux.keys("y")
        end = wait_for(lambda: kind("stage_end"), "stage_end in events.jsonl", tmux)
        assert end["state"] == "ABORTED" and end["exit_code"] == 3
        wait_for(lambda: "ABORTED" in tmux.pane(), "ABORTED on screen", tmux)

        tmux.keys("q")
        code = wait_for(lambda: exit_file.exists() and exit_file.read_text().strip(), "soakwatch to exit", tmux)
        assert code == "3"
    finally:
        if run_dir is not None and (pid := stage_pid(run_dir)) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # only if the test failed midway: stop the stage it started
    ops = [(e["action"], e["source"]) for e in read_events(run_dir / "events.jsonl") if e["kind"] == "operator"]
    assert ops == [("pause", "tui"), ("resume", "tui"), ("chaos", "tui"), ("truncate", "tui"),
                   ("abort", "tui")]  # fmt: skip
    assert truncate["args"]["files"]
    chaos_log = (run_dir / "chaos_events.log").read_text()
    assert "start    error_burst  write_file" in chaos_log
    assert (run_dir / "stage.log").read_text().count("stage demo ended: ABORTED") >= 1
    assert (run_dir / "summary.json").is_file()
