"""The streamed-answer gate metrics: goodput(...) objectives and ttft/itl/tpot percentiles, as rules."""

from __future__ import annotations

import pytest

from soakwatch.config.gates import GateSpec
from soakwatch.gates import rule_from_cli
from soakwatch.gates.parse import ParseError, parse_metric
from soakwatch.gates.rules import RuleError, compile_rule
from soakwatch.gates.stream import Goodput, PhaseLatency


def test_goodput_objectives_parse_and_print_back() -> None:
    m = parse_metric("goodput(ttft<0.5s, tpot <= 50ms,e2el < 2s)")
    assert m.names == ("goodput",) and m.slo == (("ttft", "<", 500.0), ("tpot", "<=", 50.0), ("e2el", "<", 2000.0))
    assert parse_metric(m.text) == m
    line = rule_from_cli("goodput(ttft < 500ms, tpot < 50ms) > 95% over 30s", False, "--gate")
    assert line["metric"] == "goodput(ttft < 500ms, tpot < 50ms)" and line["condition"] == "> 95%"
    rule = compile_rule(GateSpec(name="g", metric=line["metric"], condition=line["condition"]), None)
    assert isinstance(rule.judge(), Goodput) and rule.window.kind == "time" and rule.min_samples == 20


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("goodput(speed < 5ms)", "unknown objective 'speed'"),
        ("goodput(ttft > 5ms)", "upper limit"),
        ("goodput(ttft < 5)", "give ms or s"),
        ("goodput(ttft < 5ms tpot < 1ms)", "expected ',' or '\\)'"),
    ],
)
def test_bad_objectives_are_named(text: str, needle: str) -> None:
    with pytest.raises(ParseError, match=needle):
        parse_metric(text)


def test_token_time_percentiles_are_latency_like() -> None:
    rule = compile_rule(GateSpec(name="t", metric="itl", condition="p99 < 100ms"), None)
    assert isinstance(rule.judge(), PhaseLatency) and rule.condition.threshold == 100.0
    with pytest.raises(RuleError, match="ttft needs a percentile"):
        compile_rule(GateSpec(name="t", metric="ttft", condition="< 100"), None)
    with pytest.raises(RuleError, match="goodput is a share"):
        compile_rule(GateSpec(name="g", metric="goodput(ttft < 1s)", condition="p95 > 0.9"), None)


def test_token_time_gates_need_a_streaming_profile() -> None:
    from soakwatch.config.profile import Profile

    spec = GateSpec(name="g", metric="goodput(ttft < 1s)", condition="> 90%")
    plain = Profile.model_validate({"name": "p", "target": "http://127.0.0.1:9/v1/chat/completions", "calls": 5})
    with pytest.raises(RuleError, match="needs streamed answers"):
        compile_rule(spec, plain)
    streamed = plain.model_copy(update={"http": plain.http.model_copy(update={"stream": True})})
    assert isinstance(compile_rule(spec, streamed).judge(), Goodput)
