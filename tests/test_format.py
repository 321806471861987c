"""One number format for every view: the headless status line and the TUI panels read alike."""

from __future__ import annotations

from soakwatch.core import format as f
from soakwatch.tui import _format as tui_format
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets.latency import render_latency
from soakwatch.views import headless


def test_latency_reads_the_same_everywhere() -> None:
    assert f.fmt_ms(0.85) == "850µs"
    assert f.fmt_ms(12.5) == "12.50ms"
    assert f.fmt_ms(250.0) == "250.0ms"
    assert f.fmt_ms(1500.0) == "1.50s"
    assert f.fmt_ms(None) == "—" and f.fmt_ms(float("nan")) == "—"
    assert tui_format.fmt_ms is f.fmt_ms and headless.fmt_ms is f.fmt_ms


def test_the_same_snapshot_shows_the_same_latency_text_in_both_views() -> None:
    from rich.console import Console

    snap = sample_snapshot()
    console = Console(width=160, record=True)
    console.print(render_latency(snap))
    tui_text = console.export_text()
    p50 = f.fmt_ms(snap.latency["p50"])
    assert p50 in tui_text
    assert f"p50 {p50}" in headless.status_line(snap)


def test_rates_counts_and_gate_values() -> None:
    assert f.fmt_rate(1234.5) == "1,234/s" and f.fmt_rate(12.34) == "12.3/s" and f.fmt_rate(1.234) == "1.23/s"
    assert f.fmt_count(1234567) == "1,234,567"
    assert f.fmt_value(0.0512) == "0.0512" and f.fmt_value(12.0) == "12" and f.fmt_value(None) == "—"
