"""Window functions on any series, judged sample by sample (issue: ratios over per-report counters).

P2P epoch reports carry per-epoch counts; ``a / b`` takes differences of cumulative
counters and never judged them. ``sum(a) / sum(b)`` sums every report once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soakwatch.gates.parse import parse_metric
from tests.gates_harness import Harness
from tests.helpers import only_run_dir, run_cli

RATIO = {"name": "checks", "metric": "sum(failed[node1]) / sum(checks[node1])", "condition": "< 5%"}


def test_metric_functions_parse_and_print() -> None:
    m = parse_metric("sum(failed[node1]) / sum(checks[node1])")
    assert m.op == "/" and m.names == ("failed[node1]", "checks[node1]") and m.funcs == ("sum", "sum")
    assert m.text == "sum(failed[node1]) / sum(checks[node1])"
    assert parse_metric("p95(height[node1])").funcs == ("p95",)


def test_two_reports_between_ticks_are_both_summed() -> None:
    h = Harness([{**RATIO, "window": "run"}])
    # three epochs in one tick: 1 + 30 + 2 failed of 100 each
    for failed in (1, 30, 2):
        h.set("failed[node1]", failed)
        h.set("checks[node1]", 100)
    h.tick()
    g = h.gate("checks")
    assert g.obs is not None and g.obs.value == pytest.approx(33 / 300) and g.obs.samples == 3
    assert h.final("checks") == "fail"


@pytest.mark.parametrize(
    ("fn", "value"),
    [
        ("sum", 600.0),
        ("mean", 200.0),
        ("max", 300.0),
        ("last", 300.0),
        ("delta", 200.0),
        ("count", 3.0),
        ("min", 100.0),
    ],
)
def test_each_function_of_one_series(fn: str, value: float) -> None:
    h = Harness([{"name": "g", "metric": f"{fn}(height[node1])", "condition": "< 1e9", "window": "run"}])
    for v in (100, 200, 300):
        h.tick(**{"height[node1]": v})
    g = h.gate("g")
    assert g.obs is not None and g.obs.value == pytest.approx(value)


def test_rate_is_per_second_over_the_window() -> None:
    h = Harness([{"name": "g", "metric": "rate(height[node1])", "condition": "> 1", "window": "10s"}])
    for i in range(5):
        h.tick(**{"height[node1]": 10.0 * i})  # 10 every 0.5 s: 20/s
    g = h.gate("g")
    assert g.obs is not None and g.obs.value == pytest.approx(20.0)


def test_a_percentile_of_few_samples_is_not_a_verdict_unless_the_gate_says_min() -> None:
    gate = {"name": "g", "metric": "height[node1]", "condition": "p95 < 10", "window": "run"}
    h = Harness([gate])
    for _ in range(10):
        h.tick(**{"height[node1]": 50})
    assert h.final("g") == "insufficient_data"
    assert h.stop()["g"]["why"] == "min 20 samples not reached (at most 10)"
    h2 = Harness([{**gate, "min_samples": 5}])
    for _ in range(10):
        h2.tick(**{"height[node1]": 50})
    assert h2.final("g") == "fail"


def test_delay_drops_the_samples_before_it_from_a_whole_run_window() -> None:
    # a link-down sample at 0.5 s, before the gate's 3 s delay, then up for good
    h = Harness([{"name": "link", "metric": "ok[node1]", "condition": "always", "delay": "3s"}])
    h.tick(**{"ok[node1]": 0})
    for _ in range(10):
        h.tick(**{"ok[node1]": 1})
    assert h.final("link") == "pass"


def test_delay_drops_errors_before_it_from_a_whole_run_error_ratio() -> None:
    h = Harness([{"name": "e", "metric": "error_ratio", "condition": "< 5%", "window": "run", "delay": "2s"}])
    h.calls(100, errors=50)  # a bad start, inside the delay
    h.tick()
    for _ in range(6):
        h.calls(100)
        h.tick()
    g = h.gate("e")
    assert g.obs is not None and g.obs.value == 0.0
    assert h.final("e") == "pass"


EPOCHS = """
import json
import os
from pathlib import Path

FAILED = int(os.environ["EPOCH_FAILED"])
_n = 0


def epoch(case=None):
    global _n
    _n += 1
    folder = Path(os.environ["SOAKWATCH_ROOT"]) / "reports"
    folder.mkdir(exist_ok=True)
    body = {"distfs": {"failed_checks": FAILED if _n % 2 else FAILED * 0, "total_checks": 50}}
    tmp = folder / f".epoch-{_n}.tmp"
    tmp.write_text(json.dumps(body))
    os.replace(tmp, folder / f"epoch-{_n:05d}.json")
    return _n
"""


@pytest.mark.e2e
@pytest.mark.parametrize(("failed", "code"), [(1, 0), (20, 1)])
def test_per_epoch_counters_at_1_and_20_percent(tmp_path: Path, failed: int, code: int) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "epochs.py").write_text(EPOCHS)
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "p2p"\ntarget = "epochs:epoch"\ncalls = 200\nisolation = "inline"\nconcurrency = 1\n'
        '[[reports]]\nname = "n1"\npath = "reports"\npattern = "epoch-*.json"\n'
        'fields = { failed_checks = "distfs.failed_checks", total_checks = "distfs.total_checks" }\n'
        '[[gates]]\nname = "check failures"\nmetric = "sum(failed_checks[n1]) / sum(total_checks[n1])"\n'
        'condition = "< 5%"\nwindow = "run"\n'
    )
    out = tmp_path / "runs"
    r = run_cli(
        ["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out)],
        cwd=tmp_path,
        timeout=60,
        env={"EPOCH_FAILED": str(failed)},
    )
    assert r.returncode == code, r.stdout + r.stderr
    reports = sorted((root / "reports").glob("epoch-*.json"))
    assert len(reports) == 200  # the target's own record
    bodies = [json.loads(p.read_text())["distfs"] for p in reports]
    truth = sum(b["failed_checks"] for b in bodies) / sum(b["total_checks"] for b in bodies)
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    row = summary["sections"]["gates"]["rows"][0]
    assert row["status"] == ("pass" if code == 0 else "fail")
    assert row["observed_end"] == pytest.approx(truth)
    assert row["samples"] == 200


COUNTERS = """
import json
import os
from pathlib import Path

_n = 0


def epoch(case=None):
    global _n
    _n += 1
    folder = Path(os.environ["SOAKWATCH_ROOT"]) / "reports"
    folder.mkdir(exist_ok=True)
    reasons = {"timeout": 1 if _n % 4 == 0 else 0, "bad_proof": 2 if _n % 10 == 0 else 0}
    tmp = folder / f".epoch-{_n}.tmp"
    tmp.write_text(json.dumps({"failure_reasons": reasons}))
    os.replace(tmp, folder / f"epoch-{_n:05d}.json")
    return _n
"""


@pytest.mark.e2e
def test_a_dict_of_counters_is_one_series_per_key(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "reasons.py").write_text(COUNTERS)
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "p2p"\ntarget = "reasons:epoch"\ncalls = 100\nisolation = "inline"\n'
        '[[reports]]\nname = "n1"\npath = "reports"\npattern = "epoch-*.json"\n'
        'fields = { failure_reasons = "failure_reasons" }\n'
        '[[gates]]\nname = "timeouts"\nmetric = "sum(failure_reasons.timeout[n1])"\ncondition = "< 100"\n'
        'window = "run"\n'
        '[[gates]]\nname = "bad proofs"\nmetric = "sum(failure_reasons.bad_proof[n1])"\ncondition = "< 10"\n'
        'window = "run"\n'
    )
    out = tmp_path / "runs"
    r = run_cli(["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out)], cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr  # 20 bad proofs
    bodies = [json.loads(p.read_text())["failure_reasons"] for p in (root / "reports").glob("epoch-*.json")]
    rows = {
        g["gate"]: g for g in json.loads((only_run_dir(out) / "summary.json").read_text())["sections"]["gates"]["rows"]
    }
    assert rows["timeouts"]["observed_end"] == sum(b["timeout"] for b in bodies) == 25
    assert rows["timeouts"]["status"] == "pass"
    assert rows["bad proofs"]["observed_end"] == sum(b["bad_proof"] for b in bodies) == 20
    assert rows["bad proofs"]["status"] == "fail"
