from __future__ import annotations

import io

from soakwatch.core.snapshot import EventView, ProcView, Snapshot
from soakwatch.views.headless import HeadlessView, fmt_ms, status_line


def _snap(**kw: object) -> Snapshot:
    base: dict[str, object] = {
        "seq": 1,
        "stage": "final",
        "profile": "final",
        "target": "m:f",
        "run_dir": "/r",
        "state": "RUNNING",
        "elapsed": 12.0,
        "planned_calls": 5000,
        "calls": 1250,
        "errors": 12,
        "timeouts": 1,
        "rate": 104.2,
        "latency": {"p50": 0.004, "p95": 12.5, "p99": 40.0},
    }
    base.update(kw)
    return Snapshot.model_validate(base)


def test_fmt_ms() -> None:
    assert fmt_ms(0.004) == "4µs"
    assert fmt_ms(12.5) == "12.50ms"
    assert fmt_ms(250.0) == "250.0ms"


def test_status_line_has_progress_rate_errors_latency_memory() -> None:
    line = status_line(_snap(processes=[ProcView(name="monitor", rss_mb=61.0)]))
    for part in ("RUNNING", "1250/5000 (25%)", "104/s", "err 13 (1.04%)", "p50 4µs", "p95 12.50ms", "rss monitor 61MB"):
        assert part in line, (part, line)


def test_view_prints_notable_events_and_only_a_few_errors_per_kind() -> None:
    out = io.StringIO()
    view = HeadlessView(status_every=3600, out=out)
    events = [EventView(seq=i, t=1.0, kind="error", level="error", message=f"ValueError: bad {i}") for i in range(6)]
    events.append(EventView(seq=9, t=2.0, kind="worker_crash", level="error", message="worker 0 exited"))
    events.append(EventView(seq=10, t=2.0, kind="errors", level="error", message="ValueError×6"))
    view(_snap(events=events))
    assert view.close(timeout=10)
    text = out.getvalue()
    assert text.count("ValueError: bad") == 3 and "further ValueError not shown" in text
    assert "worker 0 exited" in text and "ValueError×6" not in text
    assert text.count("RUNNING") == 1
