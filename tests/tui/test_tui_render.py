"""The pure renderers: snapshot → Rich renderable, checked as plain text."""

from __future__ import annotations

from rich.console import Console, RenderableType

from soakwatch.core.snapshot import Mark
from soakwatch.tui._charts import TimeChart, sparkline
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets.errors import render_errors
from soakwatch.tui.widgets.gates import render_gates
from soakwatch.tui.widgets.latency import render_latency
from soakwatch.tui.widgets.output import render_output
from soakwatch.tui.widgets.status import render_status
from soakwatch.tui.widgets.verdict import render_verdict


def text(renderable: RenderableType, width: int = 60) -> str:
    console = Console(width=width, record=True, color_system=None, file=None)
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def test_chart_puts_marks_at_the_column_of_their_tick():
    chart = TimeChart([1.0] * 10, height=1, marks=[Mark(t=4.0, kind="chaos", label="x")], end_t=5.0, tick=0.5)
    lines = text(chart, width=10).splitlines()
    assert lines[0] == "█" * 10
    assert lines[1].index("▲") == 7  # two ticks before the newest column


def test_chart_leaves_out_marks_outside_the_window():
    chart = TimeChart([1.0] * 4, height=1, marks=[Mark(t=0.0, kind="gate", label="x")], end_t=100.0, tick=0.5)
    assert "◆" not in text(chart, width=4)


def test_sparkline_scales_to_its_range():
    assert sparkline([0, 1, 2, 3], 4) == "▁▃▆█"
    assert sparkline([], 4) == ""


def test_open_model_latency_shows_scheduled_and_actual():
    snap = sample_snapshot("running").model_copy(
        update={"open_model": True, "latency_sched": {"p50": 3.0, "p95": 80.0, "p99": 120.0}}
    )
    out = text(render_latency(snap, height=8), width=70)
    assert "from scheduled start" in out and "from actual start" in out
    assert "80.00ms" in out


def test_errors_by_kind_with_last_message():
    out = text(render_errors(sample_snapshot("running"), height=8), width=80)
    assert "EngineOverloaded" in out and "chaos: engine overloaded" in out


def test_failing_gate_first_and_verdict_lists_it():
    snap = sample_snapshot("finished")
    gates = text(render_gates(snap, height=6, width=80), width=80).splitlines()
    assert "FAIL" in gates[1] and "errors under 2%" in gates[1] and "3.4%" in gates[1]
    verdict = text(render_verdict(snap), width=120)
    assert "FAILED" in verdict and "error_ratio" in verdict and "summary.md" in verdict


def test_status_shows_state_progress_and_eta():
    out = text(render_status(sample_snapshot("paused")), width=120)
    assert "PAUSED" in out and "2,400/4,800 calls" in out and "ETA" in out


def test_output_filter_is_case_insensitive():
    out = text(render_output(["a ERROR b", "fine", "error c"], height=5, needle="error"))
    assert "fine" not in out and "a ERROR b" in out and "error c" in out
    assert "no lines match" in text(render_output(["x"], needle="zzz"))
