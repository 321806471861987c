"""Hands out call indices in chunks to the runner's slots (threads, tasks or workers).

The allocator owns the plan's position: how many calls are left, where the next
barrier is (a snapshot every N calls needs every call before it finished and none
after it started), whether the stage is paused or stopped. Slots ask for a chunk,
run it, and give back what they did not run (after a pause, a timeout or a crash),
so every index runs exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["WOULD_BLOCK", "Allocator"]

BarrierHook = Callable[[int], None]
#: what :meth:`Allocator.try_next` returns when :meth:`Allocator.next` would block
WOULD_BLOCK = (-1, 0)


class Allocator:
    """Thread-safe chunked index allocation with pause, stop and call-count barriers."""

    def __init__(
        self,
        total: int | None,
        deadline: float | None = None,
        barrier_every: int | None = None,
        on_barrier: BarrierHook | None = None,
    ) -> None:
        self.total = total
        self.deadline = deadline  # time.monotonic() seconds
        self.barrier_every = barrier_every if on_barrier else None
        self._on_barrier = on_barrier
        self._cond = threading.Condition()
        self._next = 0
        self._returned: list[tuple[int, int]] = []
        self._outstanding = 0
        self._seg_end = barrier_every if self.barrier_every else None
        self.paused = False
        self.stopped = False
        self._barrier_running = False
        self._last_barrier = 0
        #: called with True when the slots first wait at a barrier, False when it is passed (under a
        #: rate, the schedule stops meanwhile: the barrier is soakwatch's own pause, not missed load)
        self.on_hold: Callable[[bool], None] | None = None
        self._holding = False

    # ---------------------------------------------------------------- control
    def pause(self) -> None:
        with self._cond:
            self.paused = True

    def resume(self) -> None:
        with self._cond:
            self.paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify_all()

    @property
    def started(self) -> int:
        """Indices handed out and not given back."""
        with self._cond:
            return self._next - sum(c for _, c in self._returned)

    def finished(self) -> bool:
        with self._cond:
            return self._exhausted() and self._outstanding == 0

    # ---------------------------------------------------------------- slots
    def _exhausted(self) -> bool:
        if self.stopped:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        return self.total is not None and self._next >= self.total and not self._returned

    def _limit(self) -> int | None:
        lim = self.total
        if self._seg_end is not None:
            lim = self._seg_end if lim is None else min(lim, self._seg_end)
        return lim

    def _grab(self, want: int) -> tuple[int, int] | str | None:
        """A chunk, None when the slot is done, ``"wait"`` or ``"barrier"`` (held by the caller's lock)."""
        if self._exhausted():
            # a chunk in flight may still give calls back
            return None if self._outstanding == 0 or self.stopped else "wait"
        if self.paused:
            return "wait"
        if self._returned:
            start, count = self._returned.pop()
            take = min(want, count)
            if take < count:
                self._returned.append((start + take, count - take))
            self._outstanding += 1
            return start, take
        lim = self._limit()
        if lim is None or self._next < lim:
            take = want if lim is None else min(want, lim - self._next)
            start = self._next
            self._next += take
            self._outstanding += 1
            return start, take
        # at a barrier: every call before it must finish, then the hook runs once
        if not self._holding and self.on_hold is not None:
            self._holding = True
            self.on_hold(True)
        return "wait" if self._outstanding > 0 or self._barrier_running else "barrier"

    def next(self, want: int) -> tuple[int, int] | None:
        """A chunk ``(start, count)`` of at most ``want`` calls, or ``None`` when the slot is done.

        Blocks while paused, and at a barrier until every earlier call has finished.
        """
        want = max(1, want)
        with self._cond:
            while True:
                got = self._grab(want)
                if not isinstance(got, str):
                    return got
                if got == "barrier":
                    self._run_barrier()
                else:
                    self._cond.wait(0.05)

    def try_next(self, want: int) -> tuple[int, int] | None:
        """:meth:`next` without blocking: :data:`WOULD_BLOCK` when it would wait (paused, at a
        barrier), so an event loop asks a thread only then."""
        with self._cond:
            got = self._grab(max(1, want))
        return WOULD_BLOCK if isinstance(got, str) else got

    def _run_barrier(self) -> None:
        assert self._seg_end is not None and self.barrier_every is not None
        at = self._seg_end
        self._barrier_running = True
        self._cond.release()
        try:
            if self._on_barrier is not None:
                self._on_barrier(at)
        finally:
            self._cond.acquire()
            self._barrier_running = False
            self._last_barrier = at
            self._seg_end = at + self.barrier_every
            if self._holding and self.on_hold is not None:
                self._holding = False
                self.on_hold(False)
            self._cond.notify_all()

    def done(self, start: int, count: int, completed: int) -> None:
        """A slot finished ``completed`` calls of its chunk; the rest is given back."""
        with self._cond:
            self._outstanding -= 1
            if completed < count:
                self._returned.append((start + completed, count - completed))
            self._cond.notify_all()

    def final_barrier(self) -> None:
        """Run the barrier hook for the calls after the last barrier (e.g. at call 5000 of 5000)."""
        if self._on_barrier is None or self.barrier_every is None:
            return
        with self._cond:
            done = self._next - sum(c for _, c in self._returned)
            last = self._last_barrier
            self._last_barrier = done
        if done > last:
            self._on_barrier(done)
