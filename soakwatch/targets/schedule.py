"""The arrival schedule of an open-model stage (``--rate``): when each call is due, and which are missed.

Call *i* is due at ``origin + shift + i * interval``. ``origin`` is set when the
runner's slots are ready to send (so set-up time is never scheduled-start latency);
``shift`` grows by the length of every pause, so a pause moves the rest of the schedule
instead of piling up a backlog that would be sent in a burst on resume. ``--concurrency``
caps the calls in flight: an arrival that finds no free slot within ``grace`` of its due
time is *missed* (k6 says "dropped iteration"): it is counted, never sent late. So at
any moment ``planned = started + missed``, and an arrival that was sent within the
grace keeps its latency from the scheduled start.

A runner that was suspended (SIGSTOP, a laptop lid) finds every arrival due meanwhile
more than the grace late: they are missed like the others, and :meth:`Arrivals.gap`
says how many so the runner can name the cause in an event.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

__all__ = ["MISSED", "Arrivals"]

#: what :meth:`Arrivals.wait` returns for an arrival that was more than the grace late
MISSED = -1
#: longest single sleep while waiting for a due time, so pause and stop act quickly
MAX_SLEEP_NS = 50_000_000


class Arrivals:
    """Due times of an arrival rate, shifted by pauses; thread-safe."""

    def __init__(self, rate: float, grace_s: float) -> None:
        self.interval = max(1, int(1e9 / rate))
        self.grace = int(grace_s * 1e9)
        self.origin = time.perf_counter_ns()
        self.shift = 0
        self._paused_at: int | None = None
        self._lock = threading.Lock()

    def start(self, now: int | None = None) -> None:
        """Call 0 is due now: the slots are ready to send."""
        self.origin = time.perf_counter_ns() if now is None else now

    @property
    def base(self) -> int:
        """Due time of call 0 with the pauses so far: call *i* is due at ``base + i * interval``."""
        return self.origin + self.shift

    def due(self, i: int) -> int:
        return self.origin + self.shift + i * self.interval

    def pause(self, now: int | None = None) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.perf_counter_ns() if now is None else now

    def resume(self, now: int | None = None) -> None:
        """The rest of the schedule moves by the time spent paused."""
        with self._lock:
            if self._paused_at is not None:
                self.shift += (time.perf_counter_ns() if now is None else now) - self._paused_at
                self._paused_at = None

    def due_by(self, t: int) -> int:
        """How many arrivals are due at or before ``t`` (none fall due while paused)."""
        with self._lock:
            if self._paused_at is not None:
                t = min(t, self._paused_at)
            base = self.origin + self.shift
        return 0 if t < base else (t - base) // self.interval + 1

    def gap(self, t0: int, t1: int) -> int:
        """Arrivals due in ``(t0, t1]``: those a runner suspended over that span could not send."""
        return max(0, self.due_by(t1) - self.due_by(t0))

    def late_count(self, i: int, now: int) -> int:
        """How many arrivals from *i* on are already more than the grace late at ``now`` (at least 1)."""
        return max(1, (now - self.grace - self.due(i)) // self.interval + 1)

    def check(self, i: int, now: int) -> tuple[int, int]:
        """``(due, 0)``: send call *i* now; ``(MISSED, 0)``: it is past the grace; ``(0, ns)``: sleep ``ns``
        (at most :data:`MAX_SLEEP_NS`, so a waiting slot sees a pause or a stop) and check again."""
        due = self.due(i)
        if now - due > self.grace:
            return MISSED, 0
        if due <= now:
            return due, 0
        return 0, min(due - now, MAX_SLEEP_NS)

    def wait(self, i: int, held: Callable[[], bool]) -> int:
        """Sleep until call *i* is due: its due time, :data:`MISSED`, or 0 when ``held()`` turned true."""
        while True:
            due, sleep_ns = self.check(i, time.perf_counter_ns())
            if not sleep_ns:
                return due
            if held():
                return 0
            time.sleep(sleep_ns / 1e9)

    async def wait_async(self, i: int, held: Callable[[], bool]) -> int:
        """:meth:`wait` for a coroutine."""
        while True:
            due, sleep_ns = self.check(i, time.perf_counter_ns())
            if not sleep_ns:
                return due
            if held():
                return 0
            await asyncio.sleep(sleep_ns / 1e9)
