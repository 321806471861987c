"""Tokens in the TUI: the rate panel shows output tokens/s and the totals when the stage counts tokens."""

from __future__ import annotations

from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.core.series import Series
from soakwatch.core.snapshot_builder import _tokens
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.widgets.rate import render_rate
from tests.tui.test_tui_render import text


def test_the_rate_panel_shows_tokens_only_when_there_are_some() -> None:
    snap = sample_snapshot("running")
    assert "tokens" not in text(render_rate(snap, height=4, width=120), width=120)
    tok = {"prompt": 372.0, "completion": 1984.0, "per_s": 207.7, "per_s_avg": 200.0}
    head = text(render_rate(snap.model_copy(update={"tokens": tok}), height=4, width=120), width=120).splitlines()[0]
    assert "tokens/s 208" in head and "tokens out 1,984" in head and "in 372" in head


def test_live_tokens_per_second_come_from_the_completion_series() -> None:
    rec = Recorder(None, EventLog(None))
    assert _tokens(rec, 1.0) == {}
    series = rec._series["tokens_completion"] = Series("tokens_completion", "tokens")
    for t, v in ((1.0, 0.0), (2.0, 100.0), (3.0, 300.0)):
        series.append(t, v)
    rec.set("tokens_prompt", 50)
    got = _tokens(rec, 3.0)
    assert got == {"prompt": 50.0, "completion": 300.0, "per_s": 150.0, "per_s_avg": 100.0}
