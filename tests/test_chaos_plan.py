"""Chaos plans: plan files, the new actions' fields, faults injected into the driver's calls, `soakwatch chaos`."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.chaos import ChaosSpec, load_chaos_plan
from soakwatch.config.errors import UsageError
from soakwatch.config.profile import load_profile
from soakwatch.control.client import wait_for_control
from soakwatch.core.events import read_events
from soakwatch.core.inject import INJECTED_KIND, Fault, Injector
from soakwatch.stage import Stage
from tests.helpers import run_cli

WAIT = 60.0


PLAN_TOML = """
[[chaos]]
name = "kill"
action = "kill_node"
node = "node1"
at = "40s"
duration = "5s"

[[chaos]]
name = "slow"
action = "latency"
latency_ms = 20
ratio = 0.5
duration = "10s"
"""


def test_a_toml_plan_and_a_json_plan_read_the_same(tmp_path: Path) -> None:
    toml = tmp_path / "plan.toml"
    toml.write_text(PLAN_TOML)
    entries = load_chaos_plan(toml)
    assert [e["name"] for e in entries] == ["kill", "slow"]
    js = tmp_path / "plan.json"
    js.write_text(json.dumps(entries))
    assert load_chaos_plan(js) == entries
    js.write_text(json.dumps({"chaos": entries}))
    assert load_chaos_plan(js) == entries
    spec = ChaosSpec.model_validate(entries[0])
    assert (spec.at, spec.duration, spec.node) == (40.0, 5.0, "node1")


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("p.toml", '[[chaos]]\nname = "x"\naction = "kill_node"\n', ["chaos[0]", "needs 'node'"]),
        ("p.toml", '[[chaos]]\nname = "x"\naction = "latency"\nduration = 1\n', ["chaos[0]", "latency_ms"]),
        ("p.toml", '[[chaos]]\nname = "x"\naction = "hold_memory"\nduration = 1\n', ["needs 'mb'"]),
        ("p.toml", '[[chaos]]\nname = "x"\naction = "errors"\n', ["errors needs a 'duration'"]),
        ("p.toml", '[[chaos]]\nname = "x"\naction = "burn_cpu"\nduration = 1\nratio = 0.5\n', ["'ratio'"]),
        ("p.toml", '[[chaos]]\nname = "x"\naction = "explode"\n', ["chaos[0].action"]),
        ("p.toml", "[[chaos]\n", ["not valid TOML"]),
        ("p.toml", 'other = 1\n[[chaos]]\nname = "x"\naction = "corrupt_file"\npath = "a"\n', ["only 'chaos'"]),
        ("p.json", "[1]", ["chaos[0]", "table/object"]),
        ("p.json", "{", ["not valid JSON"]),
        ("p.json", "[]", ["non-empty list"]),
    ],
)
def test_bad_plans_name_the_file_and_the_entry(tmp_path: Path, name: str, text: str, words: list[str]) -> None:
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(UsageError) as err:
        load_chaos_plan(f)
    assert str(f) in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_a_plan_entry_on_a_node_that_does_not_exist_is_exit_2(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN_TOML)
    res = run_cli(
        ["run", "--target", "soakwatch.demo:work", "--calls", "5", "--no-tui", "--chaos-plan", str(plan)], cwd=tmp_path
    )
    assert res.returncode == 2
    assert "chaos[0].node" in res.stderr and "node1" in res.stderr


def test_windows_combine_and_close() -> None:
    inj = Injector()
    assert inj.active is None
    inj.open("slow", latency_s=0.01, latency_ratio=0.5)
    inj.open("fail", error_ratio=0.5)
    f = inj.active
    assert f is not None and f.latency_s == 0.01 and f.error_ratio == 0.5 and f.names == "fail+slow"
    assert f.decide(0.4, 0.9) == (0.01, None)
    delay, err = f.decide(0.9, 0.1)
    assert delay == 0.0 and err == "injected by chaos fail+slow"
    assert Fault.from_wire(f.to_wire()) == f
    inj.close("slow")
    inj.close("fail")
    assert inj.active is None


def _run_stage(root: Path, out: Path, **over: Any) -> Path:
    data = {"target": "sw_targets:noop", "root": str(root), **over}
    st = Stage(load_profile(None, data, ["tick=0.1"]), out_dir=out, cwd=root)
    run_dir = st.prepare()
    st.run()
    return run_dir


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_an_errors_window_fails_calls_as_chaos_injected_only_inside_it(
    sandbox: Path, tmp_path: Path, isolation: str
) -> None:
    chaos = [{"name": "fail", "action": "errors", "at": 0.3, "duration": 0.5, "ratio": 1.0}]
    run_dir = _run_stage(
        sandbox, tmp_path / "out", isolation=isolation, duration=1.5, rate=200.0, concurrency=1, chaos=chaos
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    kinds = {k["kind"]: k["count"] for k in summary["errors_by_kind"]}
    assert set(kinds) == {INJECTED_KIND}
    # about 0.5 s of 200 calls/s fail; calls before and after the window succeed
    assert 40 <= kinds[INJECTED_KIND] <= 160 and summary["ok"] >= 80
    assert [e["kind"] for e in read_events(run_dir / "events.jsonl") if e["kind"].startswith("chaos_")] == [
        "chaos_start",
        "chaos_end",
    ]


def test_a_latency_window_slows_the_calls_inside_it(sandbox: Path, tmp_path: Path) -> None:
    chaos = [{"name": "slow", "action": "latency", "at": 0.0, "duration": 5, "latency_ms": 20}]
    run_dir = _run_stage(sandbox, tmp_path / "out", isolation="inline", duration=1.5, rate=100.0, chaos=chaos)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["errors"] == 0 and summary["latency"]["p50"] >= 19.0


def test_the_chaos_command_triggers_on_a_running_stage_and_refuses_without_one(sandbox: Path, tmp_path: Path) -> None:
    chaos = [{"name": "fail", "action": "errors", "duration": 0.2}]
    data = {"target": "sw_targets:noop", "root": str(sandbox), "duration": 30.0, "rate": 50.0, "chaos": chaos}
    st = Stage(load_profile(None, data, ["tick=0.1"]), out_dir=tmp_path / "out", cwd=sandbox)
    run_dir = st.prepare()
    code: list[int] = []
    th = threading.Thread(target=lambda: code.append(st.run()), daemon=True)
    th.start()
    try:
        wait_for_control(run_dir, WAIT)
        listed = run_cli(["chaos", str(run_dir)], cwd=tmp_path)
        assert listed.returncode == 0 and "fail (errors)" in listed.stdout
        fired = run_cli(["chaos", str(run_dir), "fail"], cwd=tmp_path)
        assert fired.returncode == 0, fired.stderr
        assert "chaos fail:" in fired.stdout and "ChaosInjected" in fired.stdout
        unknown = run_cli(["chaos", str(run_dir), "nope"], cwd=tmp_path)
        assert unknown.returncode == 2 and "unknown chaos action 'nope'" in unknown.stderr
    finally:
        st.command("stop", source="test")
        th.join(WAIT)
    assert not th.is_alive() and code == [130]  # "stop" ends a stage as a signal does
    sources = [e.get("source") for e in read_events(run_dir / "events.jsonl") if e["kind"] == "chaos_start"]
    assert sources == ["operator"]
    gone = run_cli(["chaos", str(run_dir), "fail"], cwd=tmp_path)
    assert gone.returncode == 2 and "no stage runs" in gone.stderr
    missing = run_cli(["chaos", str(tmp_path / "nowhere"), "fail"], cwd=tmp_path)
    assert missing.returncode == 2 and "no such run directory" in missing.stderr
