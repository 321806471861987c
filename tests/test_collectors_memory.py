"""Memory trends of real worker processes: a leaking target against a flat one (real CLI)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import only_run_dir, run_cli

ENGINE = Path(__file__).parent / "collectors_engine.py"

pytestmark = pytest.mark.e2e


def _worker_trend(tmp_path: Path, fn: str) -> dict[str, Any]:
    root = tmp_path / fn
    root.mkdir()
    shutil.copy(ENGINE, root / "collectors_engine.py")
    out = tmp_path / f"runs-{fn}"
    res = run_cli(
        [
            "run",
            "--target",
            f"collectors_engine:{fn}",
            "--root",
            str(root),
            "--calls",
            "1200",
            "--isolation",
            "process",
            "--no-tui",
            "--out-dir",
            str(out),
            "--set",
            "tick=0.1",
            "--set",
            "processes.interval=0.1",
            "--set",
            "processes.warmup=0.5",
        ],
        cwd=tmp_path,
        timeout=90,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    run_dir = only_run_dir(out)
    procs = {p["name"]: p for p in json.loads((run_dir / "summary.json").read_text())["sections"]["processes"]["list"]}
    assert {"monitor", "target", "worker-0"} <= set(procs)
    assert (run_dir / "rss" / "worker-0.csv").is_file()
    worker: dict[str, Any] = procs["worker-0"]
    return worker


def test_leaking_target_has_a_positive_slope_and_a_flat_one_does_not(tmp_path: Path) -> None:
    leak = _worker_trend(tmp_path, "leak")
    flat = _worker_trend(tmp_path, "flat")
    # about 50 KB a call: the worker grows by tens of MB
    assert leak["rss_last_mb"] - leak["rss_at_warmup_mb"] > 20
    assert leak["slope_mb_h"] > 1000
    assert leak["slope_lo"] > 0
    assert leak["confidence"] > 0.8
    assert abs(flat["slope_mb_h"]) < 0.02 * leak["slope_mb_h"]
    assert flat["confidence"] < 0.5
    assert flat["growth"] == pytest.approx(1.0, abs=0.05)
