"""When a stage's memory warm-up ends, and the baseline growth is measured from.

A fixed warm-up (``processes.warmup``, 10 s by default) longer than the stage hides any
leak: growth is measured from one sample at its end, and a 10.2 s stage that grew 45×
read 1.000. So warm-up ends at whichever comes first:

* the configured ``processes.warmup`` seconds;
* :data:`WARMUP_FRACTION` of the planned stage: of its ``duration``, or of its planned
  ``calls`` (counted as they complete, so a stage of unknown length still gets one).

The baseline is the median of the first :data:`BASELINE_SAMPLES` samples after warm-up
(one sample is one GC pause away from a wrong growth); growth since the process's first
sample is published beside it (``rss_growth_start``), so a leak during warm-up shows too.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

__all__ = ["BASELINE_SAMPLES", "WARMUP_FRACTION", "Baseline", "WarmUp"]

#: share of the planned stage (duration or calls) after which warm-up is over at the latest
WARMUP_FRACTION = 0.2
#: samples after warm-up whose median is the baseline of rss_growth
BASELINE_SAMPLES = 3


class WarmUp:
    """The stage's warm-up: over at ``warmup`` seconds or at a fraction of the planned stage."""

    def __init__(self, warmup_s: float, planned_s: float | None, planned_calls: int | None) -> None:
        self.warmup_s = warmup_s
        self.by_time = min(warmup_s, WARMUP_FRACTION * planned_s) if planned_s else warmup_s
        self.by_calls = WARMUP_FRACTION * planned_calls if planned_calls else None
        self.planned_s = planned_s
        self.planned_calls = planned_calls
        #: when it ended (stage seconds) and why, once it has
        self.ended_at: float | None = None
        self.reason = ""

    def over(self, t: float, calls: int) -> bool:
        """True from the first moment warm-up is over (and ever after)."""
        if self.ended_at is not None:
            return True
        if t >= self.by_time:
            if self.by_time < self.warmup_s:
                self.reason = f"{100 * WARMUP_FRACTION:g}% of the planned {self.planned_s:g}s"
            else:
                self.reason = f"processes.warmup = {self.warmup_s:g}s"
        elif self.by_calls is not None and calls >= self.by_calls:
            self.reason = f"{100 * WARMUP_FRACTION:g}% of the planned {self.planned_calls} calls ({calls} done)"
        else:
            return False
        self.ended_at = t
        return True


@dataclass
class Baseline:
    """One process's memory reference points: its first sample and its post-warm-up baseline."""

    first: float | None = None
    after_warmup: list[float] = field(default_factory=list)

    def add(self, rss: float, warm: bool) -> None:
        if self.first is None:
            self.first = rss
        if warm and len(self.after_warmup) < BASELINE_SAMPLES:
            self.after_warmup.append(rss)

    @property
    def value(self) -> float | None:
        """The median of the samples after warm-up so far (at most BASELINE_SAMPLES), or None."""
        return statistics.median(self.after_warmup) if self.after_warmup else None

    def clear(self) -> None:
        self.first = None
        self.after_warmup.clear()
