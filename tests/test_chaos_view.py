"""The chaos picker's data: each action's effect, target, duration and planned time, from the profile."""

from __future__ import annotations

from soakwatch.chaos.plugin import ChaosPlugin
from soakwatch.config.chaos import ChaosSpec
from soakwatch.core.snapshot import ChaosView


def test_chaos_view_lists_effect_target_duration_and_plan() -> None:
    specs = [
        ChaosSpec(name="kill-node1", action="kill_node", node="node1", at=40.0, duration=5.0),
        ChaosSpec(name="slow", action="latency", latency_ms=200, duration=10.0),
        ChaosSpec(name="corrupt", action="corrupt_file", path="state/pra_log.json"),
    ]
    view = ChaosPlugin(specs).view()
    assert view["chaos_actions"] == ["kill-node1", "slow", "corrupt"]
    assert view["chaos"] == [
        ChaosView(name="kill-node1", action="kill_node", target="node1", duration_s=5.0, at_s=40.0),
        ChaosView(name="slow", action="latency", duration_s=10.0),
        ChaosView(name="corrupt", action="corrupt_file", target="state/pra_log.json"),
    ]
