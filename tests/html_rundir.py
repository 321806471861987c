"""A run directory written by a test, not by a run: timeline, events and config of a stage of any length,
with one spike where the test puts it (for the HTML report's tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: columns every synthetic timeline has, beside t and ts
COLUMNS = (
    "calls",
    "ok",
    "errors",
    "timeouts",
    "in_flight",
    "rate",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "rss_mb[target]",
    "size_kb[state/log.json]",
    "lines[state/log.json]",
    "gate_value[latency]",
    "gate_margin[latency]",
    "custom_metric[probe-a]",
)
GATE_THRESHOLD_MS = 500.0
BASE_P99_MS = 10.0


@dataclass
class SyntheticRun:
    """What the test wrote, so it can assert the page shows exactly that."""

    run_dir: Path
    rows: int
    spike_t: float
    spike_p99_ms: float
    error_kinds: dict[str, int] = field(default_factory=dict)


def _row(i: int, spike_at: int, spike_ms: float, extra: int) -> list[str]:
    t = float(i + 1)
    calls = 10 * (i + 1)
    errors = (i + 1) // 100
    p99 = spike_ms if i == spike_at else BASE_P99_MS + (i % 7) * 0.1
    values = [
        calls,
        calls - errors,
        errors,
        0,
        4,
        0.0 if i == spike_at else 10.0,
        3.0,
        8.0,
        p99,
        100 + i * 0.0001,
        i * 0.01,
        i,
        p99,
        GATE_THRESHOLD_MS - p99,
        i % 13,
        *((i * (k + 1)) % 97 for k in range(extra)),
    ]
    return [f"{t:.3f}", f"2026-01-01T00:00:{i % 60:02d}.000Z", *(f"{v:g}" for v in values)]


def write_run(
    run_dir: Path,
    rows: int,
    spike_at: int,
    spike_ms: float = 5000.0,
    *,
    complete: bool = True,
    caveats: tuple[str, ...] = (),
    error_message: str = "queue full",
    extra_series: int = 0,
) -> SyntheticRun:
    """A run of ``rows`` one-second ticks, 10 calls each, one error every 100 calls (kinds alternate),
    p99 at ``spike_ms`` for the one second ``spike_at`` (and calls/s 0 then); a chaos window, an
    operator key and a truncation on the way. ``extra_series`` adds that many ``extra[k]`` columns
    (a run as wide as a topology's)."""
    run_dir.mkdir(parents=True)
    profile = {"name": "synthetic", "target": "tests.targets:noop", "calls": rows * 10, "concurrency": 4}
    config = {"schema_version": 1, "started_at": "2026-01-01T00:00:00.000Z", "profile": profile}
    (run_dir / "run_config.json").write_text(json.dumps(config))
    with (run_dir / "timeline.csv").open("w") as fh:
        fh.write(",".join(("t", "ts", *COLUMNS, *(f"extra[s{k}]" for k in range(extra_series)))) + "\n")
        for i in range(rows):
            fh.write(",".join(_row(i, spike_at, spike_ms, extra_series)) + "\n")
    kinds = {"ValueError": 0, "TimeoutError": 0}
    events: list[dict[str, Any]] = [{"kind": "stage_start", "t": 0.0, "msg": "stage synthetic started"}]
    for k, t in enumerate(range(100, rows + 1, 100)):
        kind = "ValueError" if k % 2 == 0 else "TimeoutError"
        kinds[kind] += 1
        events.append({"kind": "error", "t": float(t), "error_kind": kind, "msg": f"{kind}: {error_message} {t}"})
        events.append({"kind": "errors", "t": float(t), "counts": {kind: 1}})
    third = rows // 3
    events += [
        {"kind": "chaos_start", "t": float(third), "action": "spike", "msg": "chaos spike started"},
        {"kind": "chaos_end", "t": float(third + 5), "action": "spike", "msg": "chaos spike ended"},
        {"kind": "operator", "t": float(third + 10), "msg": "operator pressed p (pause)"},
        {"kind": "truncate", "t": float(third + 20), "msg": "truncated state/log.json"},
        {
            "kind": "gate_rules",
            "t": 0.0,
            "gates": [{"gate": "latency", "metric": "latency", "condition": "latency p99 < 500ms over 30s"}],
        },
    ]
    if complete:
        verdict = "PASSED" + "".join(f"; {c}" for c in caveats)
        events.append(
            {
                "kind": "stage_end",
                "t": float(rows),
                "state": "PASSED",
                "exit_code": 0,
                "verdict": verdict,
                "caveats": list(caveats),
            }
        )
    with (run_dir / "events.jsonl").open("w") as fh:
        for seq, ev in enumerate(sorted(events, key=lambda e: e["t"]), start=1):
            fh.write(json.dumps({"seq": seq, "ts": "2026-01-01T00:00:00.000Z", "level": "info", **ev}) + "\n")
    return SyntheticRun(run_dir, rows, float(spike_at + 1), spike_ms, {k: v for k, v in kinds.items() if v})
