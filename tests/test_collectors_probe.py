"""``[[probe]]``: a command's output on a schedule becomes series; a failing probe is a failing collector."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from soakwatch.collectors._sources import read_source_log, source_log_path
from soakwatch.config.profile import load_profile
from soakwatch.core.events import read_events
from soakwatch.stage import Stage
from tests.helpers import run_cli

LAG = f"""#!{sys.executable}
import json, pathlib
state = pathlib.Path(__file__).with_name("lag-count.txt")
n = int(state.read_text()) if state.exists() else 0
state.write_text(str(n + 1))
with open(pathlib.Path(__file__).with_name("lag-printed.txt"), "a") as fh:
    fh.write(f"{{n * 2}}\\n")
print("starting probe")                       # noise before the JSON line
print(json.dumps({{"lag_ms": n * 2, "healthy": True, "role": "replica", "nested": {{"x": 1}}}}))
"""


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "tgt.py").write_text("import time\ndef run():\n    time.sleep(0.002)\n")
    probe = root / "lag.py"
    probe.write_text(textwrap.dedent(LAG))
    probe.chmod(0o755)
    (root / "bad.sh").write_text("#!/bin/sh\necho 'replica unreachable: connection refused' >&2\nexit 1\n")
    (root / "bad.sh").chmod(0o755)
    return root


def _run(root: Path, tmp_path: Path, probes: list[dict[str, Any]], gates: list[dict[str, Any]]) -> Path:
    profile = {
        "target": "tgt:run",
        "root": str(root),
        "isolation": "inline",
        "duration": 1.5,
        "tick": 0.1,
        "probe": probes,
        "gates": gates,
    }
    stage = Stage(load_profile(None, profile), out_dir=tmp_path / "runs")
    run_dir = stage.prepare()
    stage.run()
    return run_dir


def test_probe_json_lag_becomes_series_and_gates_judge_it(tmp_path: Path) -> None:
    root = _root(tmp_path)
    gates = [
        {"name": "lag_ok", "metric": "lag_ms[lag.py]", "condition": "max < 100000"},
        {"name": "lag_tight", "metric": "lag_ms[lag.py]", "condition": "max < 3"},
        {"name": "healthy", "metric": "healthy[lag.py]", "condition": "always"},
    ]
    run_dir = _run(root, tmp_path, [{"command": "./lag.py", "every": "0.1s"}], gates)
    printed = [float(x) for x in (root / "lag-printed.txt").read_text().split()]
    assert len(printed) >= 3
    logged = [v for _, f, v in read_source_log(source_log_path(run_dir, "lag.py")) if f == "lag_ms"]
    assert logged == printed  # every run's value, as the probe itself printed it
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = {r["gate"]: r for r in summary["sections"]["gates"]["rows"]}
    assert rows["lag_ok"]["status"] == "pass" and rows["healthy"]["status"] == "pass"
    assert rows["lag_tight"]["status"] == "fail" and rows["lag_tight"]["observed"] in printed
    fields = {f for _, f, _ in read_source_log(source_log_path(run_dir, "lag.py"))}
    assert fields == {"lag_ms", "healthy"}  # top-level numbers and booleans only
    assert summary["verdict"].startswith("FAILED")
    assert "probe" not in summary["verdict"]  # it worked: no caveat


def test_probe_that_exits_1_is_a_failing_collector_with_its_stderr(tmp_path: Path) -> None:
    root = _root(tmp_path)
    run_dir = _run(root, tmp_path, [{"command": "./bad.sh", "every": "0.2s", "fields": {"lag": "lag_ms"}}], [])
    events = read_events(run_dir / "events.jsonl")
    errs = [e for e in events if e["kind"] == "collector_error" and e.get("collector") == "probe:bad.sh"]
    assert errs and errs[0]["exit_code"] == 1
    assert errs[0]["stderr"] == "replica unreachable: connection refused"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"].startswith("PASSED, probe bad.sh failed ")
    assert "exit 1: replica unreachable: connection refused" in summary["verdict"]
    src = next(s for s in summary["sections"]["sources"] if s["name"] == "bad.sh")
    assert src["kind"] == "probe" and src["failures"] >= 1 and src["samples"] == 0


def test_probe_past_its_timeout_is_killed_and_counted(tmp_path: Path) -> None:
    root = _root(tmp_path)
    probes = [{"command": "sleep 30", "name": "slow", "every": "0.5s", "timeout": "0.2s"}]
    run_dir = _run(root, tmp_path, probes, [])
    errs = [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == "collector_error"]
    assert any("timeout after 0.2s" in e["msg"] for e in errs)
    assert "probe slow failed" in json.loads((run_dir / "summary.json").read_text())["verdict"]


def test_scrape_of_a_command_is_refused_with_a_pointer_to_probe(tmp_path: Path) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text('target = "x:y"\ncalls = 1\n[[scrape]]\nname = "r"\nurl = "cmd:./probe.sh"\n')
    out = run_cli(["validate", str(prof)], tmp_path)
    assert out.returncode == 2
    assert '[[probe]] command = "./probe.sh"' in out.stderr
