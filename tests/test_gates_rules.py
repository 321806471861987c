"""The rule language, the one-line CLI form, and the evaluator's state machine (hysteresis, strict, abort, recovery)."""

from __future__ import annotations

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.profile import Profile
from soakwatch.gates import check_rules, rule_from_cli
from soakwatch.gates.parse import ParseError, parse_condition, parse_window
from tests.gates_harness import PROFILE_BASE, Harness


def test_condition_forms() -> None:
    c = parse_condition("p95 < 0.5s")
    assert (c.kind, c.stat, c.op, c.threshold, c.percentile) == ("compare", "p95", "<", 500.0, 95.0)
    assert parse_condition("< 5%").threshold == pytest.approx(0.05)
    assert parse_condition("stall <= 2m").threshold == 120.0
    b = parse_condition("burst(4) < 3")
    assert (b.kind, b.burst_min, b.threshold) == ("burst", 4, 3.0)
    assert parse_condition("monotonic").kind == "monotonic"
    assert parse_window("1000 calls").kind == "calls" and parse_window("5m").size == 300.0


@pytest.mark.parametrize(
    ("text", "pos"), [("p95 <> 500", 5), ("median < 3", 0), ("< 5 parsecs", 4), ("stall > 5s", 0), ("", 0)]
)
def test_condition_errors_carry_the_position(text: str, pos: int) -> None:
    with pytest.raises(ParseError) as exc:
        parse_condition(text)
    assert exc.value.pos == pos


def test_cli_rule_one_line() -> None:
    r = rule_from_cli(
        "errs: error_ratio < 5% over 500 calls for 3 after 10s min 100 exempt 30s warn", True, "--abort-on"
    )
    assert r == {
        "name": "errs",
        "metric": "error_ratio",
        "condition": "< 5%",
        "window": "500 calls",
        "for": 3,
        "delay": 10.0,
        "min_samples": 100,
        "exempt_during_chaos": 30.0,
        "severity": "warn",
        "abort": True,
    }
    assert rule_from_cli("p95_ms < 500", False, "--gate")["name"] == "p95_ms < 500"
    with pytest.raises(UsageError, match=r"--gate: rule 'x < 5 sideways'.*position 7"):
        rule_from_cli("x < 5 sideways", False, "--gate")


def test_check_rules_names_gate_text_and_position() -> None:
    prof = Profile.model_validate(
        {
            **PROFILE_BASE,
            "gates": [{"name": "lagging", "metric": "head[node1] - hieght[node1]", "condition": "p95 < 3"}],
        }
    )
    with pytest.raises(UsageError) as exc:
        check_rules(prof)
    msg = str(exc.value)
    assert "gate 'lagging'" in msg and "head[node1] - hieght[node1]" in msg and "position 15" in msg
    kind_mismatch = {"name": "k", "metric": "latency", "condition": "mean < 3"}
    with pytest.raises(UsageError, match="latency needs a percentile"):
        check_rules(Profile.model_validate({**PROFILE_BASE, "gates": [kind_mismatch]}))


def test_hysteresis_needs_consecutive_breaches() -> None:
    h = Harness([{"name": "g", "metric": "size_kb[state/pra_log.json]", "condition": "< 10", "for": 3}])
    for v in (5, 20, 20, 5, 20, 20):
        h.tick(**{"size_kb[state/pra_log.json]": v})
    assert h.status("g") == "pass"
    h.tick(**{"size_kb[state/pra_log.json]": 20})
    assert h.status("g") == "fail"
    for _ in range(2):
        h.tick(**{"size_kb[state/pra_log.json]": 5})
    assert h.status("g") == "fail"
    h.tick(**{"size_kb[state/pra_log.json]": 5})
    assert h.status("g") == "pass"
    assert [e["status"] for e in h.kinds("gate")] == ["fail", "pass"]
    assert h.final("g") == "fail"  # a gate that failed once fails the stage


def test_strict_turns_warnings_into_failures_and_delay_holds_judgement() -> None:
    gate = {"name": "w", "metric": "rss_growth[target]", "condition": "< 1.5", "severity": "warn", "delay": "2s"}
    lenient = Harness([gate])
    for _ in range(3):
        lenient.tick(**{"rss_growth[target]": 2.0})
    assert lenient.status("w") == "pending"
    for _ in range(2):
        lenient.tick(**{"rss_growth[target]": 2.0})
    assert lenient.final("w") == "warn" and not lenient.plugin.verdict().failed
    strict = Harness([gate], strict=True)
    for _ in range(5):
        strict.tick(**{"rss_growth[target]": 2.0})
    assert strict.final("w") == "fail" and strict.plugin.verdict().failed


def test_abort_gate_calls_abort_once_with_the_observed_value() -> None:
    h = Harness([{"name": "errs", "metric": "error_ratio", "condition": "< 0.05", "window": "2s", "abort": True}])
    h.calls(100, errors=1)
    h.tick()
    assert not h.aborts
    for _ in range(3):
        h.calls(100, errors=30)
        h.tick()
    assert len(h.aborts) == 1
    name, reason = h.aborts[0]
    assert name == "errs" and "error_ratio < 0.05 over 2s" in reason and "observed 0.155 [31 of 200]" in reason


def test_time_to_recover_after_chaos() -> None:
    h = Harness([{"name": "errs", "metric": "error_ratio", "condition": "< 0.05", "window": "1s"}])
    h.calls(100)
    h.tick()
    h.emit("chaos_start", action="error_burst", duration=1.0)
    for _ in range(2):
        h.calls(100, errors=50)
        h.tick()
    h.emit("chaos_end", action="error_burst")
    for _ in range(6):
        h.calls(100)
        h.tick()
    rec = [r for r in h.kinds("gate_recovery") if not r.get("gate")]
    assert len(rec) == 1 and rec[0]["recovered"] is True
    # the 1 s window still holds the burst for two ticks after the end
    assert rec[0]["seconds"] == pytest.approx(1.0)


def test_time_to_recover_per_gate_after_chaos() -> None:
    slow = {"name": "errs 2s", "metric": "error_ratio", "condition": "< 0.05", "window": "2s"}
    fast = {"name": "errs 1s", "metric": "error_ratio", "condition": "< 0.05", "window": "1s"}
    calm = {"name": "size", "metric": "size_kb[state/pra_log.json]", "condition": "< 100"}
    h = Harness([slow, fast, calm])
    h.calls(100)
    h.tick(**{"size_kb[state/pra_log.json]": 1})
    h.emit("chaos_start", action="error_burst", duration=1.0)
    for _ in range(2):
        h.calls(100, errors=50)
        h.tick(**{"size_kb[state/pra_log.json]": 1})
    h.emit("chaos_end", action="error_burst")
    for _ in range(8):
        h.calls(100)
        h.tick(**{"size_kb[state/pra_log.json]": 1})
    per_gate = {r["gate"]: r["seconds"] for r in h.kinds("gate_recovery") if r.get("gate")}
    # each gate the chaos put in breach, with its own time; a gate it never touched has none
    assert per_gate == {"errs 1s": pytest.approx(1.0), "errs 2s": pytest.approx(2.0)}
    every = [r for r in h.kinds("gate_recovery") if not r.get("gate")]
    assert every[0]["seconds"] == pytest.approx(2.0)


def test_forecast_of_a_trend() -> None:
    h = Harness([{"name": "size", "metric": "size_kb[state/pra_log.json]", "condition": "< 100"}])
    for i in range(10):
        h.tick(**{"size_kb[state/pra_log.json]": 10.0 * i})  # 20 KB/s
    view = h.plugin.view()["gates"][0]
    assert view.margin == pytest.approx(10.0) and view.forecast_s == pytest.approx(0.5)
    assert h.rec.value("gate_margin[size]") == pytest.approx(10.0)
