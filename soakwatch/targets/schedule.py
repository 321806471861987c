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
more than the grace late: they are missed like the others. Missed arrivals are noted by
their due time (:meth:`Arrivals.note_missed`, in coarse buckets kept for a minute), so
the runner can say how many of those due during a suspension were missed, and why.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["GRACE_MIN", "MISSED", "Arrivals", "PausableClock", "say_skipped"]

#: the shortest grace a stage gives an arrival (its grace is a tick, at least this): a busy
#: machine's scheduling hiccup of a few tens of milliseconds must not count as missed load
GRACE_MIN = 0.5

#: what :meth:`Arrivals.wait` returns for an arrival that was more than the grace late
MISSED = -1
#: longest single sleep while waiting for a due time, so pause and stop act quickly
MAX_SLEEP_NS = 50_000_000
#: missed arrivals are counted by due time in buckets this wide, kept this long
BUCKET_NS = 100_000_000
BUCKETS_KEPT_NS = 60_000_000_000


class PausableClock:
    """A plan's clock: it starts when the slots are ready, stands still while paused and, on resume,
    moves the rest of the plan by the time spent paused; thread-safe. Arrival schedules, rate
    shapes and concurrency shapes keep their time by it."""

    def __init__(self) -> None:
        self.origin = time.perf_counter_ns()
        self.shift = 0
        self._paused_at: int | None = None
        self._holds: set[str] = set()
        self._lock = threading.Lock()

    def start(self, now: int | None = None) -> None:
        """The plan begins now: the slots are ready."""
        self.origin = time.perf_counter_ns() if now is None else now

    def pause(self, now: int | None = None, why: str = "operator") -> None:
        """The plan stands still until every ``why`` that paused it (the operator, a barrier) resumed it."""
        with self._lock:
            self._holds.add(why)
            if self._paused_at is None:
                self._paused_at = time.perf_counter_ns() if now is None else now

    def resume(self, now: int | None = None, why: str = "operator") -> None:
        """The rest of the plan moves by the time spent paused."""
        with self._lock:
            self._holds.discard(why)
            if self._paused_at is not None and not self._holds:
                self.shift += (time.perf_counter_ns() if now is None else now) - self._paused_at
                self._paused_at = None

    def clamped(self, t: int) -> tuple[int, int]:
        """(``t``, or the pause's start while paused; the plan's start with the pauses so far)."""
        with self._lock:
            if self._paused_at is not None:
                t = min(t, self._paused_at)
            return t, self.origin + self.shift

    def elapsed(self, now: int) -> int:
        """Nanoseconds into the plan at ``now`` (the clock stands still while paused)."""
        t, base = self.clamped(now)
        return t - base


class Segmented:
    """Segments of (seconds, value at its start, value at its end) laid end to end from a plan's start:
    the rate of a rate shape, the calls in flight of a concurrency shape."""

    segments: list[tuple[float, float, float]]
    _start_ns: list[int]  # each segment's start, ns into the plan
    length_ns: int

    def _lay_out(self, segments: Sequence[tuple[float, float, float]]) -> None:
        self.segments = list(segments)
        self._start_ns = []
        t = 0.0
        for secs, _, _ in self.segments:
            self._start_ns.append(int(t * 1e9))
            t += secs
        self.length_ns = int(t * 1e9)

    def _value_at(self, t: int) -> float | None:
        """The value ``t`` ns into the plan (a ramp's linearly between its ends); None before the
        start and after the end."""
        k = bisect.bisect_right(self._start_ns, t) - 1
        if k < 0 or t >= self.length_ns:
            return None
        secs, v0, v1 = self.segments[k]
        return v0 + (v1 - v0) * min(1.0, (t - self._start_ns[k]) / 1e9 / secs)


class Arrivals(PausableClock):
    """Due times of an arrival rate, shifted by pauses; thread-safe."""

    def __init__(self, rate: float, grace_s: float) -> None:
        super().__init__()
        self.interval = max(1, int(1e9 / rate))
        self.grace = int(grace_s * 1e9)
        self._missed: dict[int, int] = {}

    @property
    def base(self) -> int:
        """Due time of call 0 with the pauses so far: call *i* is due at ``base + i * interval``."""
        return self.origin + self.shift

    def due(self, i: int) -> int:
        return self.origin + self.shift + i * self.interval

    def due_by(self, t: int) -> int:
        """How many arrivals are due at or before ``t`` (none fall due while paused)."""
        t, base = self.clamped(t)
        return 0 if t < base else (t - base) // self.interval + 1

    def note_missed(self, i: int) -> None:
        """Arrival *i* was missed (by its due time, for :meth:`missed_between`)."""
        b = self.due(i) // BUCKET_NS
        with self._lock:
            self._missed[b] = self._missed.get(b, 0) + 1

    def missed_between(self, t0: int, t1: int) -> int:
        """Missed arrivals that were due from ``t0`` to ``t1`` (to a bucket's width)."""
        lo, hi = t0 // BUCKET_NS, t1 // BUCKET_NS
        with self._lock:
            return sum(n for b, n in self._missed.items() if lo <= b <= hi)

    def forget_before(self, t: int) -> None:
        """Drop the notes of arrivals due long before ``t`` (memory stays flat)."""
        cut = (t - BUCKETS_KEPT_NS) // BUCKET_NS
        with self._lock:
            for b in [b for b in self._missed if b < cut]:
                del self._missed[b]

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


def say_skipped(
    arr: Arrivals, gaps: list[tuple[int, int]], now: int, settle_ns: int, emit: Callable[..., Any]
) -> list[tuple[int, int]]:
    """Once every arrival due in a gap of the runner's own looks (the process was stopped, SIGSTOP,
    or starved) was sent or missed, say with ``emit`` (EventLog.emit) how many were missed, and why:
    the slots count them as missed instead of sending them late in a burst. Returns the gaps not
    yet said."""
    later = []
    for t0, t1 in gaps:
        if now < t1 + arr.grace + settle_ns:
            later.append((t0, t1))
            continue
        skipped = arr.missed_between(t0, t1)
        if skipped:
            secs = (t1 - t0) / 1e9
            emit(
                "arrivals_skipped",
                f"the runner was suspended for {secs:.1f}s (stopped and continued, or starved): {skipped} "
                "arrivals due meanwhile were counted as missed, not sent late",
                "warn",
                arrivals=skipped,
                seconds=round(secs, 3),
            )
    if not later:
        arr.forget_before(now)
    return later
