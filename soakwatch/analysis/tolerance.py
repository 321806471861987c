"""Tolerances for ``soakwatch compare``: how far a run may drift from the first one.

Syntax (``--tolerance``, repeatable, comma-separated): ``KEY=AMOUNT`` where AMOUNT is

* ``10%``  relative to the first run's value (and never less than the measure's noise
           floor, e.g. 0.1 ms for latency: a zero baseline tolerates only the floor)
* ``0.5pp`` percentage points, for ratios (``error_ratio``)
* ``3``    absolute, in the row's unit (ms, MB/h, lines, ...)
* ``off``  never a regression

KEY is a measure (``p95``, ``rss_slope``) for every row of that measure, or
``measure[subject]`` for one row (``delta_lines[state/pra_log.json]``, ``rss_max[target]``,
``gate[errors]``); the more specific key wins. Gate and verdict rows accept ``off`` and ``on``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from soakwatch.config.errors import UsageError

__all__ = ["Tolerance", "judge", "parse_tolerances"]

Direction = Literal["higher", "lower"]
Outcome = Literal["regression", "better", ""]

_AMOUNT = re.compile(r"^([0-9]*\.?[0-9]+)\s*(%|pp)?$")


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the baseline a value may be before it is a regression."""

    kind: Literal["rel", "abs", "pp", "off", "on"]
    amount: float = 0.0

    def __str__(self) -> str:
        if self.kind in ("off", "on"):
            return self.kind
        unit = {"rel": "%", "pp": "pp", "abs": ""}[self.kind]
        return f"{self.amount:g}{unit}"

    def limit(self, baseline: float) -> float:
        """The largest change in the worse direction that is still tolerated."""
        if self.kind == "rel":
            return abs(baseline) * self.amount / 100
        if self.kind == "pp":
            return self.amount / 100
        return self.amount


def parse_tolerances(
    texts: Iterable[str], known: Iterable[str], ratios: Iterable[str], flags: Iterable[str]
) -> dict[str, Tolerance]:
    """``["p95=10%,error_ratio=0.5pp"]`` → ``{"p95": rel 10, "error_ratio": pp 0.5}``; UsageError on bad input."""
    known_set, ratio_set, flag_set = set(known), set(ratios), set(flags)
    out: dict[str, Tolerance] = {}
    for text in texts:
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, sep, raw = item.partition("=")
            key, raw = key.strip(), raw.strip().lower()
            measure = key.split("[", 1)[0]
            if not sep or not key or not raw:
                raise UsageError("expected KEY=AMOUNT, e.g. p95=10%", where="--tolerance", value=item)
            if measure not in known_set:
                names = ", ".join(sorted(known_set))
                raise UsageError(f"unknown measure {measure!r} (known: {names})", where="--tolerance", value=item)
            if raw in ("off", "on"):
                out[key] = Tolerance(raw)  # type: ignore[arg-type]
                continue
            if measure in flag_set:
                raise UsageError(f"{measure} takes 'off' or 'on'", where="--tolerance", value=item)
            m = _AMOUNT.match(raw)
            if not m:
                raise UsageError("amount must look like 10%, 0.5pp, 3 or off", where="--tolerance", value=item)
            unit = m.group(2)
            if unit == "pp" and measure not in ratio_set:
                raise UsageError(f"pp (percentage points) is only for ratios, not {measure}", where="--tolerance")
            kind = "rel" if unit == "%" else "pp" if unit == "pp" else "abs"
            out[key] = Tolerance(kind, float(m.group(1)))  # type: ignore[arg-type]
    return out


def judge(
    baseline: float | None, value: float | None, worse: Direction, tol: Tolerance | None, floor: float = 0.0
) -> Outcome:
    """Whether ``value`` is a regression, an improvement or neither against ``baseline``.

    ``floor`` is the measure's noise floor: under a relative tolerance a change smaller
    than it (in the row's unit) never counts, so a tiny baseline does not turn noise
    into +400%.
    """
    if tol is None or tol.kind == "off" or baseline is None or value is None:
        return ""
    if not (math.isfinite(baseline) and math.isfinite(value)):
        return ""
    change = value - baseline if worse == "higher" else baseline - value
    limit = max(tol.limit(baseline), floor) if tol.kind == "rel" else tol.limit(baseline)
    if change > limit:
        return "regression"
    if -change > limit:
        return "better"
    return ""
