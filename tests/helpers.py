"""Helpers for tests that run the real CLI against real processes and files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


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
