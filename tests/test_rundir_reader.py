"""The one reader of a run directory (issue 10): a finished run, a run killed with SIGKILL
and a run whose series first appear mid-run give the same numbers in the summary, the
replay and compare, and those numbers are the target's own.

The target (tests/targets/rundir_targets.py ``grow_late``) counts every call in its own
files and, from call ``LATE`` on, appends one 64-byte line per call to ``late/grow.log``:
a watched glob that matches nothing at the start, so the file's series first appear in
``timeline_extra.csv``, not in ``timeline.csv``'s header.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from soakwatch.analysis.compare import compare_runs
from soakwatch.core.reports import build_summary
from soakwatch.core.rundir_reader import read_run
from soakwatch.sections import REPLAY_PLUGINS, REPORT_SECTIONS
from soakwatch.views.replay import ReplaySource
from tests.helpers import counted, only_run_dir, run_cli
from tests.targets.rundir_targets import LATE, LINE

LATE_FILE = "late/grow.log"
PROFILE = """
name = "late"
target = "rundir_targets:grow_late"
isolation = "inline"
concurrency = 4
tick = 0.1

[watch]
files = ["late/*.log"]
"""
#: a killed run is given this long to reach the rows the test waits for
WAIT_S = 60.0


def _sandbox(base: Path) -> Path:
    root = base / "root"
    root.mkdir(parents=True)
    shutil.copy(Path(__file__).parent / "targets" / "rundir_targets.py", root)
    (root / "counts").mkdir()
    (root / "late").mkdir()
    (root / "late.toml").write_text(PROFILE)
    with (root / "cases.jsonl").open("w") as fh:
        fh.writelines(json.dumps({"i": i}) + "\n" for i in range(100_000))
    return root


def _run_args(root: Path, out: Path, calls: int, rate: int) -> list[str]:
    return [
        "run", "--profile", str(root / "late.toml"), "--root", str(root), "--cases", "cases.jsonl",
        "--calls", str(calls), "--rate", str(rate), "--out-dir", str(out), "--no-tui",
    ]  # fmt: skip


def _env(base: Path) -> dict[str, str]:
    return {"SOAKWATCH_STATE_DIR": str(base / "state")}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(root, run dir) of a run of 300 calls that ended by itself."""
    base = tmp_path_factory.mktemp("finished")
    root = _sandbox(base)
    r = run_cli(_run_args(root, base / "runs", 300, 300), cwd=root, env=_env(base))
    assert r.returncode == 0, r.stdout + r.stderr
    return root, only_run_dir(base / "runs")


def _wait(pred: Callable[[], bool], what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not pred():
        assert proc.poll() is None, f"the stage ended before {what}"
        assert time.monotonic() < deadline, f"no {what} after {WAIT_S:.0f}s"
        time.sleep(0.05)


def _extra_rows(run_dirs: list[Path]) -> int:
    if len(run_dirs) != 1:
        return 0
    path = run_dirs[0] / "timeline_extra.csv"
    return len(path.read_text().splitlines()) if path.is_file() else 0


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(root, run dir) of a run killed with SIGKILL after the late file's series appeared, then reported."""
    base = tmp_path_factory.mktemp("killed")
    root = _sandbox(base)
    out = base / "runs"
    env = {**os.environ, **_env(base)}
    env.pop("SOAKWATCH_ROOT", None)
    cmd = [sys.executable, "-m", "soakwatch", *_run_args(root, out, 90_000, 300)]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        runs = lambda: [d for d in out.iterdir() if d.is_dir()] if out.is_dir() else []  # noqa: E731
        _wait(lambda: _extra_rows(runs()) > 20, "rows of the late file's series", proc)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    run_dir = only_run_dir(out)
    assert not (run_dir / "summary.json").exists()
    r = run_cli(["report", str(run_dir)], cwd=root, env=_env(base))
    assert r.returncode == 0, r.stdout + r.stderr
    return root, run_dir


def _numbers(run_dir: Path) -> dict[str, Any]:
    """The same figures read by the summary, the replay (at its last row) and compare."""
    summary = build_summary(run_dir, REPORT_SECTIONS)
    written = json.loads((run_dir / "summary.json").read_text())
    snap = ReplaySource(run_dir, REPLAY_PLUGINS).snapshot()
    cmp = compare_runs([run_dir], sections=REPORT_SECTIONS)
    rows = {row.key: row.values[0] for row in cmp.rows}
    files = {f["file"]: f for f in summary.sections["files"]}
    shown = {f.path: f for f in snap.files}
    assert written["sections"]["files"] == summary.sections["files"]
    assert summary.calls == written["calls"] == snap.calls == rows["calls"]
    assert summary.errors == written["errors"] == snap.errors == 0
    assert files[LATE_FILE]["lines"] == shown[LATE_FILE].lines
    # timeline.csv keeps KB to 3 decimals (half a byte); the replay shows whole bytes
    assert abs(files[LATE_FILE]["size_kb"] * 1024 - shown[LATE_FILE].size) < 1
    return {
        "calls": summary.calls,
        "lines": files[LATE_FILE]["lines"],
        "size_kb": files[LATE_FILE]["size_kb"],
        "growth_kb": rows.get(f"growth_kb[{LATE_FILE}]"),
    }


def _growth_on_disk(run_dir: Path) -> float:
    """KB per 1000 calls of the late file between the first and the last row that has it, from the cells."""
    tl = read_run(run_dir).timeline
    rows = [(tl.value("calls", i), kb) for i, kb in tl.present(f"size_kb[{LATE_FILE}]")]
    (c0, kb0), (c1, kb1) = rows[0], rows[-1]
    assert c0 is not None and c1 is not None and c1 > c0
    return (kb1 - kb0) / (c1 - c0) * 1000


def _check_growth(run_dir: Path, growth: float | None) -> None:
    # the file is sampled on ticks, the calls are counted as they are folded: the ratio is
    # near the target's 64 bytes a call (62.5 KB per 1000 calls), not exactly it
    assert growth is not None and growth == pytest.approx(_growth_on_disk(run_dir))
    assert 0.5 < growth / (len(LINE) / 1024 * 1000) < 2


def _appeared_mid_run(run_dir: Path) -> None:
    header = (run_dir / "timeline.csv").read_text().splitlines()[0].split(",")
    assert f"size_kb[{LATE_FILE}]" not in header
    assert f",size_kb[{LATE_FILE}]," in (run_dir / "timeline_extra.csv").read_text()


def test_a_finished_run_with_a_series_that_appeared_mid_run(finished: tuple[Path, Path]) -> None:
    root, run_dir = finished
    _appeared_mid_run(run_dir)
    got = _numbers(run_dir)
    written = len((root / "late" / "grow.log").read_bytes()) // len(LINE)
    # 300 arrivals at 300/s: on a loaded box a few may find no free slot in time (missed, said so)
    missed = json.loads((run_dir / "summary.json").read_text())["missed_arrivals"]
    assert got["calls"] == counted(root, "calls") == 300 - missed
    assert got["calls"] > LATE, missed  # the late file did appear mid-run
    assert got["lines"] == written and 300 - LATE - missed <= written <= 300 - LATE
    assert got["size_kb"] == pytest.approx(written * len(LINE) / 1024, abs=0.0005)
    _check_growth(run_dir, got["growth_kb"])


def test_a_run_killed_with_sigkill_reads_the_same_through_the_one_reader(killed: tuple[Path, Path]) -> None:
    root, run_dir = killed
    _appeared_mid_run(run_dir)
    got = _numbers(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert not summary["complete"] and summary["state"] == "INCOMPLETE"
    tl = read_run(run_dir).timeline
    # the last whole row on disk is the record; the target itself went on a little further
    assert got["calls"] == tl.last("calls") and LATE < got["calls"] <= counted(root, "calls")
    # the file's last sample is what the target had written by then (it may be ahead of the calls folded)
    assert got["lines"] == tl.last(f"lines[{LATE_FILE}]") and 0 < got["lines"] <= counted(root, "calls") - LATE
    _check_growth(run_dir, got["growth_kb"])


def test_summary_replay_and_compare_agree_across_finished_and_killed_runs(
    finished: tuple[Path, Path], killed: tuple[Path, Path]
) -> None:
    cmp = compare_runs([finished[1], killed[1]], sections=REPORT_SECTIONS)
    rows = {row.key: row for row in cmp.rows}
    for i, (_, run_dir) in enumerate((finished, killed)):
        got = _numbers(run_dir)
        assert rows["calls"].values[i] == got["calls"]
        assert rows[f"growth_kb[{LATE_FILE}]"].values[i] == got["growth_kb"]


def test_a_last_row_torn_between_timeline_and_timeline_extra_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "timeline.csv").write_text("t,ts,calls\n0.1,a,10\n0.2,b,20\n0.3,c,30\n")
    # the kill came after row 0.3 reached timeline.csv, before its late series did
    (tmp_path / "timeline_extra.csv").write_text("t,series,value\n0.1,size_kb[f],\n0.2,size_kb[f],2.5\n")
    tl = read_run(tmp_path, require_config=False).timeline
    assert tl.rows == 2 and tl.stamps == ["a", "b"] and tl.last("calls") == 20
    assert tl.value("size_kb[f]", 0) is None and tl.last("size_kb[f]") == 2.5
    # a late series written on every row keeps every row
    (tmp_path / "timeline_extra.csv").write_text("t,series,value\n0.2,size_kb[f],2.5\n0.3,size_kb[f],\n")
    tl = read_run(tmp_path, require_config=False).timeline
    assert tl.rows == 3 and tl.last("size_kb[f]") is None and tl.value("size_kb[f]", 1) == 2.5
