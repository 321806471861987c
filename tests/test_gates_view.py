"""What the gates plugin tells the views about each gate: subject, condition without the metric,
unit of the observed value and margin, and the window (the TUI shows these, it never works them out)."""

from __future__ import annotations

from soakwatch.core.snapshot import GateView
from tests.gates_harness import Harness


def _views(h: Harness) -> dict[str, GateView]:
    return {g.name: g for g in h.plugin.view()["gates"]}


def test_gate_views_carry_subject_check_unit_and_window() -> None:
    h = Harness(
        [
            {"name": "lat", "metric": "latency", "condition": "p95 < 25", "window": "10s"},
            {"name": "errs", "metric": "error_ratio", "condition": "< 5%", "window": "30s"},
            {"name": "progress", "metric": "height[node1]", "condition": "stall < 5s"},
            {"name": "lag", "metric": "head[node1] - height[node1]", "condition": "p95 < 3", "window": "30s"},
            {"name": "checks", "metric": "failed[node1] / checks[node1]", "condition": "< 5%", "window": "run"},
        ],
        calls=None,
        duration=60,
    )
    views = _views(h)
    assert {n: (v.subject, v.check, v.unit, v.window_s) for n, v in views.items()} == {
        "lat": ("", "p95 < 25 over 10s", "ms", 10.0),
        "errs": ("", "< 5% over 30s", "ratio", 30.0),
        "progress": ("node1", "stall < 5s", "s", 5.0),
        "lag": ("node1", "p95 < 3 over 30s", "", 30.0),
        "checks": ("node1", "< 5%", "ratio", None),
    }


def test_observed_value_and_margin_are_in_the_gate_unit() -> None:
    h = Harness([{"name": "errs", "metric": "error_ratio", "condition": "< 5%", "window": "run"}])
    for _ in range(4):
        h.calls(25, errors=1)  # 4 errors in 100 calls: 4%
        h.tick()
    view = _views(h)["errs"]
    assert view.unit == "ratio" and view.status == "pass"
    assert view.observed == 0.04
    assert view.margin is not None and abs(view.margin - 0.01) < 1e-9


def test_after_the_stage_the_view_shows_the_final_status_and_the_worst_observation() -> None:
    h = Harness([{"name": "errs", "metric": "error_ratio", "condition": "< 5%", "window": "2s"}])
    for _ in range(4):
        h.calls(20, errors=4)  # 20% failed: the gate fails
        h.tick()
    assert _views(h)["errs"].status == "fail"
    for _ in range(12):
        h.calls(100)  # then clean calls: the live status goes back to pass
        h.tick()
    assert _views(h)["errs"].status == "pass"
    h.stop()
    final = _views(h)["errs"]
    assert final.status == "fail"  # what the verdict counts, and what the verdict panel must list
    assert final.observed == 0.2 and final.changed_at is not None and final.changed_at <= 2.0
