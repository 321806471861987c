"""``delay`` drops what came before it from whole-run windows too (issue: gate semantics people hit).

A whole-run latency percentile read the recorder's histogram of the whole stage, so slow
calls of the first second failed a ``p95`` gate with ``delay = "2s"``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gates_harness import Harness
from tests.helpers import only_run_dir, run_cli

GATE = {"name": "p95", "metric": "latency", "condition": "p95 < 30", "window": "run", "delay": "2s"}


def test_whole_run_latency_leaves_out_the_calls_before_the_delay() -> None:
    h = Harness([GATE])
    for _ in range(3):  # 0.5 .. 1.5 s: 30 slow calls
        h.calls(10, lat_ms=80)
        h.tick()
    for _ in range(8):  # 2.0 .. 5.5 s: 80 fast calls
        h.calls(10, lat_ms=5)
        h.tick()
    final = h.stop()["p95"]
    assert final["status"] == "pass" and final["samples"] == 80  # the slow 30 are left out
    assert final["observed"] == pytest.approx(5, rel=0.01)


def test_whole_run_latency_after_the_delay_still_fails() -> None:
    h = Harness([GATE])
    for lat in (5, 5, 5, 5, 80, 80):
        h.calls(10, lat_ms=lat)
        h.tick()
    final = h.stop()["p95"]
    assert final["status"] == "fail" and final["samples"] == 30  # ticks at 2.0, 2.5 and 3.0 s
    assert final["observed"] == pytest.approx(80, rel=0.01)


SLOW = """
import os
import time
from pathlib import Path

_n = 0
_t0 = None


def call(case=None):
    global _n, _t0
    _n += 1
    now = time.monotonic()
    if _t0 is None:
        _t0 = now
    first = os.environ["SLOW"] == "first"
    slow = (now - _t0 < 1.0) if first else _n > 70
    time.sleep(0.1 if slow else 0.025)
    with (Path(os.environ["SOAKWATCH_ROOT"]) / "calls.txt").open("a") as fh:
        fh.write(f"{_n} {'slow' if slow else 'fast'}\\n")
    return _n
"""


@pytest.mark.e2e
@pytest.mark.parametrize(("slow", "code"), [("first", 0), ("last", 1)])
def test_slow_calls_before_the_delay_do_not_fail_a_whole_run_p95(tmp_path: Path, slow: str, code: int) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "slow.py").write_text(SLOW)
    out = tmp_path / "runs"
    args = ["run", "--target", "slow:call", "--root", str(root), "--calls", "90", "--isolation", "inline"]
    args += ["--concurrency", "1", "--no-tui", "--out-dir", str(out)]
    # about 10 slow calls of 90 (11 %): the whole run's p95 is slow; after 2 s only "last" has slow calls
    args += ["--gate", "p95: latency p95 < 60 over run after 2s"]
    r = run_cli(args, cwd=tmp_path, timeout=60, env={"SLOW": slow})
    assert r.returncode == code, r.stdout + r.stderr
    kinds = [line.split()[1] for line in (root / "calls.txt").read_text().splitlines()]
    assert len(kinds) == 90 and kinds.count("slow") >= 8  # the target's own record
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    row = summary["sections"]["gates"]["rows"][0]
    assert 0 < row["samples"] < 90  # the calls that ended before 2 s are not judged
    if slow == "first":
        assert row["status"] == "pass" and row["observed_end"] < 60
    else:
        assert row["status"] == "fail" and row["observed_end"] >= 80


LINK = """
import json
import os
import time
from pathlib import Path

_n = 0


def epoch(case=None):
    global _n
    _n += 1
    folder = Path(os.environ["SOAKWATCH_ROOT"]) / "reports"
    folder.mkdir(exist_ok=True)
    tmp = folder / f".r-{_n}.tmp"
    tmp.write_text(json.dumps({"link_up": _n > 10}))  # the link is down for the first ten reports
    os.replace(tmp, folder / f"r-{_n:05d}.json")
    time.sleep(0.01)
    return _n
"""


@pytest.mark.e2e
@pytest.mark.parametrize(("delay", "code"), [("3s", 0), ("0s", 1)])
def test_a_link_down_before_the_delay_does_not_fail_an_always_gate(tmp_path: Path, delay: str, code: int) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.py").write_text(LINK)
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "link"\ntarget = "link:epoch"\ncalls = 400\nisolation = "inline"\nconcurrency = 1\n'
        '[[reports]]\nname = "n1"\npath = "reports"\npattern = "r-*.json"\nfields = { link_up = "link_up" }\n'
        f'[[gates]]\nname = "link"\nmetric = "link_up[n1]"\ncondition = "always"\ndelay = "{delay}"\n'
    )
    out = tmp_path / "runs"
    args = ["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out)]
    r = run_cli(args, cwd=tmp_path, timeout=60)
    assert r.returncode == code, r.stdout + r.stderr
    ups = [json.loads(p.read_text())["link_up"] for p in sorted((root / "reports").glob("r-*.json"))]
    assert len(ups) == 400 and ups.count(False) == 10  # the target's own record
    row = json.loads((only_run_dir(out) / "summary.json").read_text())["sections"]["gates"]["rows"][0]
    assert row["status"] == ("pass" if delay == "3s" else "fail")
    if delay == "0s":
        assert row["samples"] == 400  # every report judged, the ten down ones too
