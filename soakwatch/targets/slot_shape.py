"""The slot gate of a concurrency ``[[shape]]`` (closed model): how many slots may start a call now.

The stage runs as many slots as the shape's peak; slot ``k`` (0, 1, ...) may start a call
only while the planned level is above ``k``, so at most ``level`` calls start and run at once.
A slot above the level waits (it sleeps to the next segment's start, at most
:data:`~soakwatch.targets.schedule.MAX_SLEEP_NS` at a time, so it sees a pause, a stop or a
ramp's next step); a call in flight when the level drops finishes, and its slot then waits.
Each segment keeps its level for ``for`` seconds (0: an idle gap, no call starts); a ramp
``"A->B"`` moves the level linearly, rounded to the nearest whole slot, so it steps as the
line crosses each half. Pauses shift the whole shape as they shift an arrival schedule
(:class:`~soakwatch.targets.schedule.Arrivals`); after the last segment the level is 0.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections.abc import Callable, Sequence

from soakwatch.targets.schedule import MAX_SLEEP_NS, PausableClock, Segmented

__all__ = ["Level", "SlotLevels"]

#: (seconds, calls in flight at its start, at its end)
Level = tuple[float, int, int]


class SlotLevels(Segmented, PausableClock):
    """The planned concurrency over time, shifted by pauses; thread-safe."""

    def __init__(self, segments: Sequence[Level]) -> None:
        super().__init__()
        self.peak = max(max(c0, c1) for _, c0, c1 in segments)
        self._lay_out(segments)

    def level(self, now: int | None = None) -> int:
        """Calls allowed in flight at ``now`` (0 in an idle gap and after the shape's end); a ramp
        rounded to the nearest whole slot."""
        level = self._value_at(self.elapsed(time.perf_counter_ns() if now is None else now))
        return 0 if level is None else math.floor(level + 0.5)

    def check(self, slot: int, now: int) -> int:
        """0: slot ``slot`` may start a call now; else nanoseconds to sleep before asking again."""
        if slot < self.level(now):
            return 0
        t = self.elapsed(now)
        k = bisect.bisect_right(self._start_ns, t)
        to_next = self._start_ns[k] - t if k < len(self._start_ns) else MAX_SLEEP_NS
        return max(1, min(MAX_SLEEP_NS, to_next))

    def wait(self, slot: int, held: Callable[[], bool], deadline: int) -> bool:
        """Sleep until slot ``slot`` may start a call: True; False when ``held()`` turned true or the
        stage's ``deadline`` passed first."""
        while True:
            now = time.perf_counter_ns()
            sleep_ns = self.check(slot, now)
            if not sleep_ns:
                return True
            if held() or now >= deadline:
                return False
            time.sleep(min(sleep_ns, deadline - now) / 1e9)

    async def wait_async(self, slot: int, held: Callable[[], bool], deadline: int) -> bool:
        """:meth:`wait` for a coroutine."""
        while True:
            now = time.perf_counter_ns()
            sleep_ns = self.check(slot, now)
            if not sleep_ns:
                return True
            if held() or now >= deadline:
                return False
            await asyncio.sleep(min(sleep_ns, deadline - now) / 1e9)
