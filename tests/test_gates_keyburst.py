"""A burst per key of a dict-of-counters field (issue 12, item 6: ``failure_reasons.*``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soakwatch.config.errors import UsageError
from tests.gates_harness import Harness
from tests.helpers import only_run_dir, run_cli

REPORTS = [{"name": "n1", "path": "r", "fields": {"failure_reasons": "failure_reasons"}}]
GATE = {"name": "reasons", "metric": "failure_reasons.*[n1]", "condition": "burst(3) < 2", "window": "1s"}


def test_a_burst_in_one_key_is_judged_and_named_by_its_key() -> None:
    h = Harness([GATE], reports=REPORTS)
    for _ in range(8):  # 4 s: every 0.5 s two reports, timeout 2 + 1 = 3 per window of 1 s on its own half
        for timeout, proof in ((1, 1), (1, 0)):
            h.set("failure_reasons.timeout[n1]", timeout)
            h.set("failure_reasons.bad_proof[n1]", proof)
        h.tick()
    final = h.stop()["reasons"]
    assert final["status"] == "fail"
    assert final["detail"].startswith("failure_reasons.timeout[n1] in ") and "consecutive 1s windows" in final["detail"]


def test_keys_below_the_burst_size_pass() -> None:
    h = Harness([GATE], reports=REPORTS)
    for _ in range(8):  # 2 of each key per 1 s window: below burst(3)
        h.set("failure_reasons.timeout[n1]", 1)
        h.set("failure_reasons.bad_proof[n1]", 1)
        h.tick()
    final = h.stop()["reasons"]
    assert final["status"] == "pass" and final["observed"] == 0


def test_a_key_wildcard_takes_a_burst_condition() -> None:
    with pytest.raises(UsageError, match="takes a burst condition"):
        Harness([{**GATE, "condition": "< 3"}], reports=REPORTS)


REASONS = """
import json
import os
from pathlib import Path

_n = 0


def epoch(case=None):
    global _n
    _n += 1
    folder = Path(os.environ["SOAKWATCH_ROOT"]) / "reports"
    folder.mkdir(exist_ok=True)
    burst = os.environ["BURST"] == "1" and 40 <= _n < 200  # bad proofs in every report for a while
    reasons = {"timeout": 1 if _n % 25 == 0 else 0, "bad_proof": 1 if burst else 0}
    tmp = folder / f".epoch-{_n}.tmp"
    tmp.write_text(json.dumps({"failure_reasons": reasons}))
    os.replace(tmp, folder / f"epoch-{_n:05d}.json")
    import time

    time.sleep(0.01)
    return _n
"""


@pytest.mark.e2e
@pytest.mark.parametrize(("burst", "code"), [("1", 1), ("0", 0)])
def test_a_bursting_failure_reason_fails_the_stage_by_its_key(tmp_path: Path, burst: str, code: int) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "reasons.py").write_text(REASONS)
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "p2p"\ntarget = "reasons:epoch"\ncalls = 250\nisolation = "inline"\nconcurrency = 1\n'
        '[[reports]]\nname = "n1"\npath = "reports"\npattern = "epoch-*.json"\n'
        'fields = { failure_reasons = "failure_reasons" }\n'
        '[[gates]]\nname = "reasons"\nmetric = "failure_reasons.*[n1]"\ncondition = "burst(5) < 2"\n'
        'window = "0.5s"\n'
    )
    out = tmp_path / "runs"
    args = ["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out)]
    r = run_cli(args, cwd=tmp_path, timeout=60, env={"BURST": burst})
    assert r.returncode == code, r.stdout + r.stderr
    bodies = [json.loads(p.read_text())["failure_reasons"] for p in (root / "reports").glob("epoch-*.json")]
    assert len(bodies) == 250 and sum(b["bad_proof"] for b in bodies) == (160 if burst == "1" else 0)
    row = json.loads((only_run_dir(out) / "summary.json").read_text())["sections"]["gates"]["rows"][0]
    assert row["status"] == ("fail" if burst == "1" else "pass")
    if burst == "1":
        assert row["detail"].startswith("failure_reasons.bad_proof[n1] in ")
