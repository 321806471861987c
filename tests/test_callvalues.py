"""``from soakwatch import phase, record``: phase histograms and per-call checks, against a target's own log."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from soakwatch.analysis.compare import compare_runs
from soakwatch.config.profile import load_profile
from soakwatch.core.format import fmt_ms
from soakwatch.core.histogram import LatencyHistogram
from soakwatch.core.reports import build_summary
from soakwatch.sections import REPORT_SECTIONS
from soakwatch.stage import Stage
from soakwatch.views.headless import print_summary

PHASED = """
import os, time
from soakwatch import phase, record

LOG = os.path.join(os.path.dirname(__file__), "own-{}.txt".format(os.getpid()))

def run(case):
    i = case["i"]
    with phase("offer"):
        t0 = time.perf_counter_ns()
        time.sleep((1 + i % 5) / 1000)   # 1..5 ms, as the target itself measures it
        own = time.perf_counter_ns() - t0
    with phase("settle"):
        pass
    with open(LOG, "a") as fh:
        fh.write(f"{own}\\n")
"""

SEQ = """
import os
from soakwatch import record

LOG = os.path.join(os.path.dirname(__file__), "seq-{}.txt".format(os.getpid()))
_n = 0

def run():
    global _n
    seq = _n - 1 if _n == 500 else _n   # call 500 repeats call 499's value
    _n += 1
    record("load_seq", seq)
    with open(LOG, "a") as fh:
        fh.write(f"{seq}\\n")
"""


def _root(tmp_path: Path, name: str, source: str, cases: int = 0) -> Path:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    if cases:
        (root / "cases.jsonl").write_text("".join(json.dumps({"i": i}) + "\n" for i in range(cases)))
    return root


def _run(root: Path, tmp_path: Path, **over: object) -> tuple[int, Path]:
    base: dict[str, object] = {"root": str(root), "tick": 0.1, "isolation": "process"}
    base.update(over)
    stage = Stage(load_profile(None, base), out_dir=tmp_path / "runs")
    run_dir = stage.prepare()
    return stage.run(), run_dir


def _hdr_percentile(values_ns: list[int], pct: float) -> float:
    """The percentile (ms) the way soakwatch's histogram reports it, of values the target measured itself."""
    h = LatencyHistogram()
    import numpy as np

    h.record_many(np.maximum(np.asarray(values_ns, dtype=np.int64) // 1000, 1))
    return h.percentiles([pct])[0] / 1000


def test_phase_percentiles_in_process_isolation_match_the_targets_own(tmp_path: Path) -> None:
    root = _root(tmp_path, "phased", PHASED, cases=200)
    code, run_dir = _run(root, tmp_path, target="phased:run", cases=str(root / "cases.jsonl"), calls=200, concurrency=2)
    assert code == 0
    own = [int(x) for f in root.glob("own-*.txt") for x in f.read_text().split()]
    assert len(own) == 200
    summary = json.loads((run_dir / "summary.json").read_text())
    offer = summary["phases"]["offer"]
    assert offer["count"] == 200
    assert summary["phases"]["settle"]["count"] == 200
    for pct, key in ((50, "p50"), (95, "p95")):
        expected = _hdr_percentile(own, pct)
        # the phase brackets the target's own clock reads: a few µs more, never less; ±1 bucket (0.1 %)
        assert expected * 0.999 - 0.001 <= offer[key] <= expected * 1.002 + 0.02, (key, offer[key], expected)
    timeline = (run_dir / "timeline.csv").read_text().splitlines()[0].split(",")
    assert "phase_p95_ms[offer]" in timeline
    assert "phase `offer`" in (run_dir / "summary.md").read_text()
    out = io.StringIO()
    print_summary(build_summary(run_dir, REPORT_SECTIONS), out)
    assert f"phase offer  p50 {fmt_ms(offer['p50'])}" in out.getvalue()  # the headless final summary
    rows = {r.label: r.values for r in compare_runs([run_dir, run_dir], sections=REPORT_SECTIONS).rows}
    assert rows["phase offer p95 (ms)"] == [offer["p95"], offer["p95"]]


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_duplicate_load_seq_at_call_500_fails_strictly_increasing(tmp_path: Path, isolation: str) -> None:
    root = _root(tmp_path, "seq", SEQ)
    gates = [
        {"name": "seq", "metric": "record[load_seq]", "condition": "strictly_increasing"},
        {"name": "nodrop", "metric": "record[load_seq]", "condition": "never_decreasing"},
        {"name": "uniq", "metric": "record[load_seq]", "condition": "unique"},
    ]
    code, run_dir = _run(root, tmp_path, target="seq:run", calls=1000, isolation=isolation, gates=gates)
    seen = [int(x) for f in root.glob("seq-*.txt") for x in f.read_text().split()]
    assert len(seen) == 1000 and seen[500] == seen[499]  # what the target itself did
    assert code == 1
    rows = {r["gate"]: r for r in json.loads((run_dir / "summary.json").read_text())["sections"]["gates"]["rows"]}
    assert rows["seq"]["status"] == "fail"
    assert rows["seq"]["observed"] == 1
    assert rows["seq"]["samples"] == 1000
    assert rows["nodrop"]["status"] == "pass"  # a repeat is not a drop
    assert rows["uniq"]["status"] == "fail"
    failures = (run_dir / "failures.md").read_text()
    assert "call 500: load_seq 499 not above 499 of call 499" in failures
    assert "call 500: load_seq = 499 already recorded by call 499" in failures


def test_a_target_without_phase_or_record_hands_over_nothing(tmp_path: Path) -> None:
    root = _root(tmp_path, "plain", "def run():\n    return 1\n")
    code, run_dir = _run(root, tmp_path, target="plain:run", calls=300)
    assert code == 0
    assert not (run_dir / "phases.hdr").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["phases"] == {} and summary["calls"] == 300


def test_importing_soakwatch_loads_only_the_standard_library() -> None:
    code = (
        "import sys, soakwatch; from soakwatch import phase, record; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'numpy', 'hdrh', 'rich', 'textual')); "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_phase_and_record_outside_a_call_are_noops() -> None:
    from soakwatch import phase, record

    with phase("x"):
        record("y", 1)  # no current slot: nothing to append to, nothing raised


CRASHES = """
import os
from soakwatch import record

_n = 0

def run():
    global _n
    _n += 1
    record("seq", _n)
    if _n == 5000 and not os.path.exists(os.path.join(os.path.dirname(__file__), "crashed")):
        open(os.path.join(os.path.dirname(__file__), "crashed"), "w").close()
        os._exit(3)   # the values of this worker's unfinished chunk go with it
"""


def test_values_lost_with_a_crashed_worker_are_said_on_the_verdict_line(tmp_path: Path) -> None:
    root = _root(tmp_path, "crashes", CRASHES)
    code, run_dir = _run(root, tmp_path, target="crashes:run", calls=20000)
    assert (root / "crashed").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["worker_crashes"] == 1
    assert summary["verdict"].startswith("PASSED, per-call values of ")
    assert summary["verdict"].endswith(" calls lost with their worker")
    assert code == 0
