"""Helpers for the detach / ps / ctl / hang-up tests: detached stages in a registry of the test's own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from soakwatch.control.client import ControlClient
from soakwatch.control.registry import pid_alive
from soakwatch.core.events import read_events

T = TypeVar("T")
#: longest a test waits for a stage to reach a state
WAIT = 30.0


def until(pred: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll ``pred`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def cli(args: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process (inherits the test's environment, registry included)."""
    cmd = [sys.executable, "-m", "soakwatch", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def noop_args(sandbox: Path, out: Path, *extra: str, duration: str = "60s", rate: str = "50") -> list[str]:
    """A quiet inline stage that ends by itself after ``duration`` (so a failed test leaves nothing for long)."""
    return [
        "run", "--target", "sw_targets:noop", "--root", str(sandbox), "--duration", duration, "--rate", rate,
        "--isolation", "inline", "--out-dir", str(out), "--set", "tick=0.2", *extra,
    ]  # fmt: skip


def stage_info(run_dir: Path) -> int:
    """The stage's pid, from its control socket."""
    with ControlClient(run_dir) as client:
        return int(client.request("hello")["info"]["pid"])


def stop(pid: int) -> None:
    """Stop a stage a failed test left running, gracefully, and wait (bounded) for it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    with contextlib.suppress(AssertionError):
        until(lambda: not pid_alive(pid), "the stage to stop", timeout=15)


def kinds(run_dir: Path, kind: str) -> list[dict[str, object]]:
    return [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == kind]


@pytest.fixture(name="registry")
def registry_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stage registry of the test's own (children inherit it)."""
    state = tmp_path / "state"
    monkeypatch.setenv("SOAKWATCH_STATE_DIR", str(state))
    monkeypatch.delenv("SOAKWATCH_ROOT", raising=False)
    return state / "running"


@pytest.fixture(name="detached")
def detached_fixture(sandbox: Path, tmp_path: Path, registry: Path) -> Iterator[Callable[..., tuple[Path, int]]]:
    """Start stages with `run --detach`; returns (run dir, pid); stops what is left at the end."""
    pids: list[int] = []

    def start(*extra: str, args: list[str] | None = None) -> tuple[Path, int]:
        done = cli(args or noop_args(sandbox, tmp_path / "runs", "--detach", *extra))
        assert done.returncode == 0, done.stderr
        run_dir = Path(done.stdout.splitlines()[0])
        pid = stage_info(run_dir)
        pids.append(pid)
        return run_dir, pid

    yield start
    for pid in pids:
        if pid_alive(pid):
            stop(pid)
