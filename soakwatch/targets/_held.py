"""A runner whose calls run in other processes (worker processes, Ray actors): a hold flag the
slots read before each call starts or stops new calls, and the calls in flight get the stage's
``stop_grace`` after a stop before they are cancelled (their worker or actor killed)."""

from __future__ import annotations

import time
from abc import abstractmethod

from soakwatch.targets._runner_base import Runner

__all__ = ["ChunkRunner", "HeldRunner"]


class HeldRunner(Runner):
    """:meth:`_set_hold` tells every slot; ``_stop_at`` is when the calls in flight are cut;
    ``_killing`` makes the driving loop abandon them now."""

    _stop_at: float = float("inf")
    _killing: bool = False

    @abstractmethod
    def _set_hold(self, value: int) -> None:
        """1: no new call starts in any slot (pause, stop); 0: calls go on."""

    def pause(self) -> None:
        super().pause()
        self._set_hold(1)

    def resume(self) -> None:
        self._set_hold(0)
        super().resume()

    def stop(self) -> None:
        super().stop()
        self._set_hold(1)
        if self._stop_at == float("inf"):  # the calls in flight get the stage's stop_grace
            self._stop_at = time.monotonic() + self.plan.stop_grace

    def kill(self) -> None:
        self.stop()
        self._killing = True

    def cancel_in_flight(self) -> None:
        """Each busy worker or actor is killed and its call counted as cancelled."""
        self.kill()


class ChunkRunner(HeldRunner):
    """A held runner whose slot hands a whole chunk of calls to its worker or actor at a time."""

    @abstractmethod
    def _run_chunk(self, slot: int, start: int, count: int) -> int:
        """Run calls ``start .. start + count`` in ``slot``'s worker or actor; the calls done."""

    def _run_counted(self, slot: int, start: int, count: int, avg: float) -> float:
        """One allocated chunk as calls in flight, handed back to the allocator with the calls done
        (the allocator stopped when the next arrival falls after the stage's end); the seconds a
        call took on average (``avg`` unchanged when none was done)."""
        t0 = time.perf_counter()
        self.enter()
        try:
            done = self._run_chunk(slot, start, count)
        finally:
            self.leave()
        self.allocator.done(start, count, done)
        if self.arrivals is not None and self.arrivals.due(start + done) >= self.deadline_ns:
            self.allocator.stop()  # the next arrival falls after the end of the stage
        return (time.perf_counter() - t0) / done if done else avg
