"""Every rule kind on synthetic series: pass, fail, borderline, insufficient data, exempted by chaos."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.gates_harness import Harness

Feed = Callable[[Harness, float], None]


@dataclass
class Kind:
    """A rule kind: its gate, how to feed it a level ``x`` for 10 ticks, and levels for pass/fail/border."""

    gate: dict[str, Any]
    feed: Feed
    ok: float
    bad: float
    #: the level exactly on the limit and whether the rule holds there
    border: float
    border_holds: bool
    ticks: int = 10


def _errors(h: Harness, x: float) -> None:
    h.calls(100, errors=round(100 * x))
    h.tick()


def _latency(h: Harness, x: float) -> None:
    h.calls(50, lat_ms=x)
    h.tick()


def _series(name: str) -> Feed:
    def feed(h: Harness, x: float) -> None:
        h.tick(**{name: x})

    return feed


def _lag(h: Harness, x: float) -> None:
    h.tick(**{"head[node1]": 100 + x, "height[node1]": 100})


class _Counters:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, h: Harness, x: float) -> None:
        self.n += 1
        h.tick(**{"checks[node1]": 100 * self.n, "failed[node1]": round(100 * x) * self.n})


def _monotonic(h: Harness, x: float) -> None:
    # x > 0: a drop of x on the 5th tick; x == 0: equal values (allowed, non-decreasing)
    g = h.gate("g")
    n = g.obs.samples if g.obs else 0
    h.tick(**{"height[node1]": 10.0 + (n if x == 0 else (n - x if n == 4 else n))})


def _stall(h: Harness, x: float) -> None:
    # x: seconds without progress before the value changes again (ticks of 0.5 s)
    g = h.gate("g")
    n = g.obs.samples if g.obs else 0
    h.tick(**{"height[node1]": float(n // (round(x / 0.5) + 1))})


def _always(h: Harness, x: float) -> None:
    g = h.gate("g")
    n = g.obs.samples if g.obs else 0
    h.tick(**{"ok[node1]": 0.0 if (x and n == 5) else 1.0})


def _unchanged(h: Harness, x: float) -> None:
    g = h.gate("g")
    n = g.obs.samples if g.obs else 0
    h.tick(files_changed=x if n >= 5 else 0.0)


def _burst(h: Harness, x: float) -> None:
    # x errors of the same kind every tick (windows of 1 s: 2 ticks)
    h.calls(10, errors=round(x), kind="StateCorrupted")
    h.tick()


def _alive(h: Harness, x: float) -> None:
    g = h.gate("g")
    if x and g.obs is not None and g.obs.samples and h.rec.last_tick_t == 2.5:
        h.emit("worker_crash", worker="worker-0")
    h.tick()


KINDS: dict[str, Kind] = {
    "error_ratio": Kind(
        {"metric": "error_ratio", "condition": "< 0.05", "window": "2s"}, _errors, 0.01, 0.2, 0.05, False
    ),
    "latency": Kind({"metric": "latency", "condition": "p95 <= 2ms", "window": "2s"}, _latency, 1, 5, 2, True),
    "rss_growth": Kind(
        {"metric": "rss_growth[target]", "condition": "< 1.5"}, _series("rss_growth[target]"), 1.1, 2, 1.5, False
    ),
    "rss_slope": Kind(
        {"metric": "rss_slope[target]", "condition": "<= 50"}, _series("rss_slope[target]"), 5, 80, 50, True
    ),
    "file_size": Kind(
        {"metric": "size_kb[state/pra_log.json]", "condition": "< 200"},
        _series("size_kb[state/pra_log.json]"),
        50,
        250,
        200,
        False,
    ),
    "delta_lines": Kind(
        {"metric": "delta_lines[state/pra_log.json]", "condition": "max == 0"},
        _series("delta_lines[state/pra_log.json]"),
        0,
        3,
        0,
        True,
    ),
    "lag": Kind(
        {"metric": "head[node1] - height[node1]", "condition": "p95 < 10", "window": "5s", "min_samples": 5},
        _lag,
        2,
        30,
        10,
        False,
    ),
    "counter_ratio": Kind(
        {"metric": "failed[node1] / checks[node1]", "condition": "< 0.1", "window": "3s", "min_samples": 1},
        _Counters(),
        0.02,
        0.5,
        0.1,
        False,
    ),
    "monotonic": Kind({"metric": "height[node1]", "condition": "monotonic"}, _monotonic, 0, 3, 0, True),
    "stall": Kind({"metric": "height[node1]", "condition": "stall < 2s"}, _stall, 0.5, 4, 2, False),
    "invariant": Kind({"metric": "ok[node1]", "condition": "always"}, _always, 0, 1, 0, True),
    "unchanged": Kind({"metric": "files_changed", "condition": "unchanged"}, _unchanged, 0, 2, 0, True),
    "burst": Kind({"metric": "error_kinds", "condition": "burst(3) < 3", "window": "1s"}, _burst, 1, 5, 3, False),
    "alive": Kind({"metric": "processes", "condition": "alive"}, _alive, 0, 1, 0, True),
}


def _harness(kind: Kind, **gate: Any) -> Harness:
    return Harness([{"name": "g", **kind.gate, **gate}])


def _run(kind: Kind, x: float, ticks: int | None = None, h: Harness | None = None) -> Harness:
    h = h or _harness(kind)
    for _ in range(ticks or kind.ticks):
        kind.feed(h, x)
    return h


@pytest.mark.parametrize("name", list(KINDS))
def test_pass(name: str) -> None:
    h = _run(KINDS[name], KINDS[name].ok)
    assert h.final("g") == "pass", h.gate("g").obs
    assert not h.plugin.verdict().failed


@pytest.mark.parametrize("name", list(KINDS))
def test_fail(name: str) -> None:
    h = _run(KINDS[name], KINDS[name].bad)
    final = h.stop()["g"]
    assert final["status"] == "fail", h.gate("g").obs
    assert final["observed"] is not None and final["changed_at"] is not None
    v = h.plugin.verdict()
    assert v.failed and "gate g" in v.reasons[0]
    transitions = h.kinds("gate")
    assert (
        transitions
        and transitions[0]["status"] == "fail"
        and transitions[0]["previous"] in ("pending", "pass", "insufficient_data")
    )


@pytest.mark.parametrize("name", list(KINDS))
def test_borderline(name: str) -> None:
    k = KINDS[name]
    h = _run(k, k.border)
    assert h.final("g") == ("pass" if k.border_holds else "fail"), h.gate("g").obs


@pytest.mark.parametrize("name", [n for n in KINDS if n != "alive"])
def test_insufficient_data(name: str) -> None:
    k = KINDS[name]
    h = _harness(k, min_samples=10_000)
    _run(k, k.bad, h=h)
    assert h.final("g") == "insufficient_data"
    assert not h.plugin.verdict().failed  # the profile default: insufficient data is a warning
    strict = Harness([{"name": "g", **k.gate, "min_samples": 10_000}], insufficient_data="fail")
    _run(k, k.bad, h=strict)
    strict.stop()
    v = strict.plugin.verdict()
    assert v.failed and "insufficient data" in v.reasons[0]


@pytest.mark.parametrize("name", list(KINDS))
def test_exempted_by_chaos(name: str) -> None:
    k = KINDS[name]
    h = _harness(k, exempt_during_chaos="60s")
    h.tick()
    h.emit("chaos_start", action="error_burst", duration=2.0)
    _run(k, k.bad, h=h)
    final = h.stop()["g"]
    assert final["status"] == "pass", h.gate("g").obs
    assert final["exempted"] and final["exempted"][0][2] == "error_burst"
    assert h.status("g") == "exempt"
    # the same feed without the exemption fails
    assert _run(k, k.bad).final("g") == "fail"


def test_counter_ratio_over_the_run_counts_from_the_first_point() -> None:
    # counters that do not start at zero (e.g. a node's totals since its own start): 5 failed of 100 checks
    gate = {"name": "g", "metric": "failed[node1] / checks[node1]", "condition": "< 0.1", "window": "run"}
    h = Harness([{**gate, "min_samples": 1}])
    for i in range(11):
        h.tick(**{"failed[node1]": 50.0 + i // 2, "checks[node1]": 1000.0 + 10 * i})
    g = h.gate("g")
    assert g.obs is not None and g.obs.value == pytest.approx(0.05)
    assert h.status("g") == "pass"
