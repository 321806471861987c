"""Helpers for tests that run the real CLI against real processes and files."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soakwatch.stage import Stage


def run_cli(
    args: Sequence[str], cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `soakwatch` CLI (python -m soakwatch) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SOAKWATCH_ROOT", None)
    return subprocess.run(
        [sys.executable, "-m", "soakwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def only_run_dir(out: Path) -> Path:
    dirs = [d for d in out.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def counted(root: Path, what: str) -> int:
    return sum(len(p.read_text().splitlines()) for p in (root / "counts").glob(f"{what}-*.txt"))


class Running:
    """A stage running in a thread of this process (prepared on construction)."""

    def __init__(self, stage: Stage, wait: float = 60.0) -> None:
        self.stage = stage
        self.wait = wait
        self.run_dir = stage.prepare()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.code = self.stage.run()

    def join(self) -> int:
        self.thread.join(self.wait)
        assert not self.thread.is_alive(), "stage did not end"
        assert self.code is not None
        return self.code
