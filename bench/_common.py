"""Shared bits of the benchmarks: running the real CLI and reading its summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def run_stage(args: list[str], timeout: float = 300) -> dict[str, Any]:
    """Run `soakwatch run ... --no-tui` in a temp out dir and return its summary.json."""
    with tempfile.TemporaryDirectory(prefix="soakwatch-bench-") as out:
        env = {k: v for k, v in os.environ.items() if k != "SOAKWATCH_ROOT"}
        proc = subprocess.run(
            [sys.executable, "-m", "soakwatch", "run", *args, "--no-tui", "--out-dir", out],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=HERE,
        )
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"soakwatch failed ({proc.returncode}): {proc.stderr[-2000:]}")
        run_dir = next(p for p in Path(out).iterdir() if p.is_dir())
        summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
        summary["_run_dir_files"] = sorted(p.name for p in run_dir.iterdir())
        return summary
