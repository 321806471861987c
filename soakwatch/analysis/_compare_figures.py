"""The figures ``compare`` judges, made comparable across stages of different lengths.

A smoke stage of 56 calls and a final one of 5000 are the same engine when its figures per
call and per snapshot interval agree: Δ lines per 1000 calls over whole snapshot intervals
(not the last, partial one), RSS growth after warm-up per 1000 calls (not the raw maximum),
the slope only when its fit is confident. And a change the sample sizes cannot tell from
chance (0 errors in 56 calls against 1 % of 672; the p99 of 56 calls) is not a regression.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from soakwatch.analysis.tolerance import Outcome

__all__ = [
    "PERCENTILES",
    "TAIL_SAMPLES",
    "Z_NOISE",
    "as_float",
    "delta_per_kcalls",
    "growth_per_kcalls",
    "memory",
    "num",
    "sampled",
    "tokens",
]

Value = float | str | None
Facts = dict[tuple[str, str | None], Value]

#: quantile of each percentile row: compared only with TAIL_SAMPLES calls beyond it in both runs
PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
TAIL_SAMPLES = 10
#: standard errors a change of an error ratio must exceed to be more than chance
Z_NOISE = 3.0
#: RSS growth after warm-up smaller than this (MB) is noise, whatever the stage's length
RSS_NOISE_MB = 5.0
#: a slope fitted with less confidence than this is noise, not a figure to compare
SLOPE_MIN_CONFIDENCE = 0.5


def num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def as_float(text: str | None) -> float | None:
    try:
        v = float(text) if text else None
    except ValueError:
        return None
    return v if v is not None and math.isfinite(v) else None


def _whole_intervals(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any], int]]:
    """(previous snapshot, snapshot, calls between them) of each whole snapshot interval.

    Left out: the first interval (it counts from the stage start, where a reset, or a
    bounded log refilling after one, reads as growth) and a partial one (the last snapshot
    of a stage that ended between two).
    """
    sizes = [int(b["calls"]) - int(a["calls"]) for a, b in itertools.pairwise(rows)]
    if not sizes:
        return []
    # the snapshot interval (snapshot_every): the usual size, the first interval (from the stage
    # start) counted too, so the one interval of a 150-call stage (100 → 150) reads as partial
    seen = [int(rows[0]["calls"]), *sizes]
    whole = max(set(seen), key=lambda n: (seen.count(n), n))
    return [(a, b, n) for (a, b), n in zip(itertools.pairwise(rows), sizes, strict=True) if n == whole]


def delta_per_kcalls(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Δ lines per 1000 calls of each file over the whole snapshot intervals.

    Left out: the first and a partial interval (:func:`_whole_intervals`), and one in which
    soakwatch truncated the file. Stages of 56 and 5000 calls compare per call.
    """
    added: dict[str, float] = {}
    calls: dict[str, float] = {}
    for _, row, size in _whole_intervals(rows):
        for name, f in (row.get("files") or {}).items():
            if f.get("truncated") or num(f.get("delta")) is None:
                continue
            added[name] = added.get(name, 0.0) + float(f["delta"])
            calls[name] = calls.get(name, 0.0) + size
    return {n: added[n] / calls[n] * 1000 for n in added if calls[n]}


def growth_per_kcalls(rows: list[dict[str, Any]]) -> dict[str, float]:
    """KB per 1000 calls of each file over the whole snapshot intervals it was untouched in.

    A bounded log that soakwatch truncated or reset refills to its bound: counted from the
    stage start, or across the interval of the truncation, that refill reads as growth
    that swings with where the stage's ends fall. Here an interval in which soakwatch
    truncated, reset or rewrote the file is left out, as are the first and a partial one.
    """
    grown: dict[str, float] = {}
    calls: dict[str, float] = {}
    for prev, row, size in _whole_intervals(rows):
        before = prev.get("files") or {}
        for name, f in (row.get("files") or {}).items():
            b = before.get(name) or {}
            now, then = num(f.get("size")), num(b.get("size"))
            if f.get("truncated") or now is None or then is None or not (f.get("exists") and b.get("exists")):
                continue
            grown[name] = grown.get(name, 0.0) + (now - then) / 1024
            calls[name] = calls.get(name, 0.0) + size
    return {n: grown[n] / calls[n] * 1000 for n in grown if calls[n]}


def memory(name: str, p: dict[str, Any], calls: float) -> Facts:
    """Per-call growth after warm-up, and the slope when its fit is worth comparing."""
    out: Facts = {}
    last, warm = num(p.get("rss_last_mb")), num(p.get("rss_at_warmup_mb"))
    if last is not None and warm is not None and calls:
        grown = last - warm
        # a few MB after warm-up is the allocator settling: per 1k calls of a short stage it would
        # read as a leak, so below the noise it counts as none
        out[("rss_growth_kcalls", name)] = grown / calls * 1000 if abs(grown) >= RSS_NOISE_MB else 0.0
    conf = num(p.get("confidence"))
    if conf is not None and conf >= SLOPE_MIN_CONFIDENCE:
        out[("rss_slope", name)] = num(p.get("slope_mb_h"))
    return out


def tokens(last: dict[str, float | None], calls: float) -> Facts:
    """Prompt and completion tokens per call (HTTP chat targets), from the timeline's last values."""
    out: Facts = {}
    for col in ("tokens_prompt", "tokens_completion"):
        v = last.get(col)
        if v is not None and calls:
            out[("tokens", col.removeprefix("tokens_"))] = v / calls
    return out


def sampled(key: str, n0: float, n1: float, v0: Value, v1: Value, outcome: Outcome) -> Outcome:
    """A change that the runs' sample sizes cannot tell from chance is not a regression (nor better).

    A percentile needs :data:`TAIL_SAMPLES` calls beyond it in both runs (p95: 200 calls, p99:
    1000); a share of calls (error ratio, errors of one kind) must differ by more than
    :data:`Z_NOISE` standard errors of the pooled proportion (0 errors in 56 calls and 1 % of
    672 are the same engine).
    """
    if not outcome:
        return outcome
    q = PERCENTILES.get(key)
    if q is not None:
        need = TAIL_SAMPLES / (1 - q)
        return outcome if n0 >= need and n1 >= need else ""
    if key in ("error_ratio", "error_kind"):
        p0, p1 = num(v0) or 0.0, num(v1) or 0.0
        if not n0 or not n1:
            return ""
        pooled = (p0 * n0 + p1 * n1) / (n0 + n1)
        se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n0 + 1 / n1))
        return outcome if abs(p1 - p0) > Z_NOISE * se else ""
    return outcome
