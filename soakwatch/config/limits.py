"""Bounds on numbers a profile or a flag may give: non-finite or absurd values are refused at
validation (exit 2, naming the field), never discovered as a stage that runs 0 calls.

Each bound is far outside any real stage and well inside what the runners can schedule
(a timeout of 1e300 s overflows the nanosecond clocks; a rate of 1e-300/s plans the first
call for after the end of the universe).
"""

from __future__ import annotations

__all__ = ["MAX_CALLS", "MAX_DURATION", "MAX_RATE", "MAX_TIMEOUT", "MIN_RATE", "MIN_SECONDS"]

#: a year: the longest duration (stage, gate window, ``for``) soakwatch plans
MAX_DURATION = 366 * 86400.0
#: a day: the longest per-call timeout
MAX_TIMEOUT = 86400.0
#: the shortest duration or timeout that can be measured and scheduled (a millisecond)
MIN_SECONDS = 0.001
#: arrivals per second, open model: one an hour at the least, a million a second at the most
MIN_RATE = 1 / 3600
MAX_RATE = 1_000_000.0
#: calls in one stage
MAX_CALLS = 10**12
