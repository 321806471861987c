"""The new panels' renderers as plain text: verdict groups and links, nodes, charts, events folding."""

from __future__ import annotations

from soakwatch.core.snapshot import EventView, NodeView
from soakwatch.tui._braille import LineChart, nice_ceiling
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets.events import fold
from soakwatch.tui.widgets.nodes import render_nodes
from soakwatch.tui.widgets.verdict import render_verdict
from tests.tui.test_tui_render import text


def test_verdict_lists_warned_and_unjudged_gates_and_links_actions_in_the_window():
    out = text(render_verdict(sample_snapshot("finished_warn")), width=160)
    assert "PASSED, 1 gate not judged" in out
    assert "! p95 latency" in out and "! worker memory [worker-0]" in out and "? dag unchanged" in out
    assert "after chaos error_burst for 10s at 40.0s" in out  # the gate changed at 45 s with a 10 s window
    assert "gates: 1 passed, 2 warned, 1 not judged" in out


def test_verdict_says_no_gates_defined():
    snap = sample_snapshot("finished").model_copy(update={"gates": []})
    assert "no gates defined" in text(render_verdict(snap), width=120)


def test_a_dead_node_shows_dead_and_no_rss():
    snap = sample_snapshot("topology")
    dead = NodeView(id="node1", state="down", restarts=1, report_age_s=9.0, fields={"committed_height": 50})
    snap = snap.model_copy(update={"nodes": [dead, *snap.nodes[1:]]})
    rows = text(render_nodes(snap, height=6, width=120), width=120).splitlines()
    node1 = next(r for r in rows if r.startswith("node1"))
    assert "DEAD" in node1 and node1.rstrip().endswith("—")
    node2 = next(r for r in rows if r.startswith("node2"))
    assert "PAUSED" in node2 and "23.2" in node2


def test_chart_has_a_scale_and_a_time_axis_and_keeps_small_changes_flat():
    chart = LineChart([22.6 + 0.005 * i for i in range(100)], height=7, fmt=lambda v: f"{v:g}MB", tick=0.5)
    lines = text(chart, width=60).splitlines()
    assert lines[0].lstrip().startswith("25MB ┤") and "0MB ┤" in lines[4]
    assert "now" in lines[5] and "-10s" in lines[5]
    # 22.6 → 23.1 MB on an absolute scale sits on one row: no false leak ramp
    assert sum(1 for ln in lines[:5] if any("\u2800" < ch <= "\u28ff" for ch in ln)) == 1


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0.7, 3, 38.9, 44.1, 120)] == [1.0, 5.0, 50.0, 50.0, 200.0]


def test_errors_fold_into_one_line_per_kind_per_interval():
    evs = [
        EventView(seq=1, t=1.0, kind="error", level="error", message="ValueError: bad input"),
        EventView(seq=2, t=1.5, kind="errors", level="error", message="ValueError×3"),
        EventView(seq=3, t=2.0, kind="errors", level="error", message="ValueError×4, KeyError×1"),
        EventView(seq=4, t=12.0, kind="errors", level="error", message="ValueError×2"),
    ]
    lines = [ln.message for ln in fold(evs)]
    assert lines == [
        "ValueError ×7 in 0–10s: bad input",
        "KeyError ×1 in 0–10s",
        "ValueError ×2 in 10–20s",
    ]


def test_node_ids_stay_whole_and_fields_that_do_not_fit_are_left_out():
    fields: dict[str, float] = {"committed_height": 23, "network_head": 23, "failed_checks": 2, "total_checks": 144}
    fields["invariant_ok"] = 1
    nodes = [NodeView(id=f"node{i}", state="running", fields=fields, rss_mb=20.1) for i in (1, 2, 3)]
    snap = sample_snapshot("topology").model_copy(update={"nodes": nodes})
    for width in (60, 80, 118):
        lines = text(render_nodes(snap, height=6, width=width), width=width).splitlines()
        assert [ln.split()[0] for ln in lines[1:4]] == ["node1", "node2", "node3"]
        assert all(len(ln.rstrip()) <= width and "…" not in ln for ln in lines)
        assert lines[1].rstrip().endswith("20.1")


def test_latency_lists_the_phases_a_target_timed():
    phases = {"offer": {"count": 40, "p50": 3.1, "p95": 9.4, "p99": 12.0, "max": 20.5}}
    snap = sample_snapshot("running").model_copy(update={"phases": phases})
    from soakwatch.tui.widgets.latency import render_latency

    row = next(ln for ln in text(render_latency(snap, height=10, width=60), width=60).splitlines() if "offer" in ln)
    from soakwatch.tui._format import fmt_ms

    assert row.split() == ["phase", "offer", *(fmt_ms(phases["offer"][p]) for p in ("p50", "p95", "p99", "max"))]
