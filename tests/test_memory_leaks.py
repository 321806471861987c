"""The three leaks that passed (issue: no false PASS), each as a real leaking process under the real CLI.

* a 3000-call stage of a target leaking 64 KB a call reported no slope and growth 1.12;
* a 150-call stage of a leaking agent ended "insufficient data", exit 0;
* a server that grew 45× passed ``rss_growth < 1.10`` (growth from one sample after a 10 s warm-up).

All with the default ``[processes]`` settings (1 s interval, 10 s warm-up): the warm-up now
fits the stage, sampling starts fast, and the baseline is the median of several samples.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import counted, only_run_dir, run_cli

pytestmark = pytest.mark.e2e

LEAKERS = Path(__file__).parent / "memory_leakers.py"


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "counts").mkdir(parents=True)
    shutil.copy(LEAKERS, root / "memory_leakers.py")
    return root


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((only_run_dir(out) / "summary.json").read_text())
    return summary


def _gates(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["gate"]: r for r in summary["sections"]["gates"]["rows"]}


def _run_target(tmp_path: Path, fn: str, calls: int) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    root = _root(tmp_path)
    out = tmp_path / "runs"
    args = ["run", "--target", f"memory_leakers:{fn}", "--root", str(root), "--calls", str(calls)]
    args += ["--isolation", "process", "--no-tui", "--out-dir", str(out)]
    args += ["--gate", "growth: rss_growth[target] < 1.10", "--gate", "slope: rss_slope[target] < 100"]
    r = run_cli(args, cwd=tmp_path, timeout=120)
    summary = _summary(out)
    assert counted(root, "calls") == summary["calls"] == calls  # the target's own count
    return r, summary


def test_a_3000_call_stage_leaking_64kb_a_call_fails_growth_and_slope(tmp_path: Path) -> None:
    r, summary = _run_target(tmp_path, "per_call", 3000)
    assert r.returncode == 1, r.stdout + r.stderr
    gates = _gates(summary)
    assert gates["growth"]["status"] == "fail" and gates["growth"]["observed"] > 1.10
    assert gates["slope"]["status"] == "fail"
    target = next(p for p in summary["sections"]["processes"]["list"] if p["name"] == "target")
    # 3000 × 64 KB = 187.5 MB kept alive by the worker
    assert target["rss_last_mb"] - target["rss_first_mb"] > 150
    assert target["slope_mb_h"] is not None and target["slope_mb_h"] > 100
    assert target["growth_start"] > target["growth"] > 1.5
    assert summary["sections"]["processes"]["warmup_s"] < 10


def test_a_flat_target_passes_both_gates(tmp_path: Path) -> None:
    r, summary = _run_target(tmp_path, "flat", 3000)
    assert r.returncode == 0, r.stdout + r.stderr
    gates = _gates(summary)
    assert gates["growth"]["status"] == "pass" and gates["slope"]["status"] == "pass"
    assert summary["verdict"] == "PASSED"


def test_a_150_call_leaking_agent_is_judged_and_fails(tmp_path: Path) -> None:
    r, summary = _run_target(tmp_path, "agent", 150)
    assert r.returncode == 1, r.stdout + r.stderr
    gates = _gates(summary)
    assert gates["growth"]["status"] == "fail", gates["growth"]
    assert gates["slope"]["status"] == "fail", gates["slope"]
    assert "not judged" not in summary["verdict"]


def _start_server(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    port_file, count_file = tmp_path / "server.port", tmp_path / "server.count"
    proc = subprocess.Popen([sys.executable, str(LEAKERS), str(port_file), str(count_file)])
    deadline = time.monotonic() + 20
    while not (port_file.is_file() and len(port_file.read_text().split()) == 2):
        assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
        time.sleep(0.05)
    port, pid = (int(x) for x in port_file.read_text().split())
    (tmp_path / "root").mkdir(exist_ok=True)
    (tmp_path / "root" / "server.pid").write_text(str(pid))
    return proc, port, count_file


def test_a_leaking_server_fails_rss_growth(tmp_path: Path) -> None:
    proc, port, count_file = _start_server(tmp_path)
    out = tmp_path / "runs"
    profile = tmp_path / "leaky.toml"
    profile.write_text(
        f'name = "leaky"\ntarget = "http://127.0.0.1:{port}/"\ncalls = 300\nconcurrency = 2\n'
        '[http]\nmethod = "GET"\n'
        '[[processes.watch]]\nname = "server"\npid_file = "server.pid"\n'
        '[[gates]]\nname = "server growth"\nmetric = "rss_growth[server]"\ncondition = "< 1.10"\n'
    )
    try:
        args = ["run", "--profile", str(profile), "--root", str(tmp_path / "root"), "--no-tui", "--out-dir", str(out)]
        r = run_cli(args, cwd=tmp_path, timeout=120)
    finally:
        proc.terminate()
        proc.wait(10)
    summary = _summary(out)
    served = int(count_file.read_text())
    assert summary["calls"] == served == 300  # the server's own count
    assert r.returncode == 1, r.stdout + r.stderr
    gate = _gates(summary)["server growth"]
    assert gate["status"] == "fail" and gate["observed"] > 1.10
    server = next(p for p in summary["sections"]["processes"]["list"] if p["name"] == "server")
    # 300 × 512 KB = 150 MB kept alive by the server
    assert server["rss_last_mb"] - server["rss_first_mb"] > 120
