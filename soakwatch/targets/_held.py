"""A runner whose calls run in other processes (worker processes, Ray actors): a hold flag the
slots read before each call starts or stops new calls, and the calls in flight get the stage's
``stop_grace`` after a stop before they are cancelled (their worker or actor killed)."""

from __future__ import annotations

import time
from abc import abstractmethod

from soakwatch.targets._runner_base import Runner

__all__ = ["HeldRunner"]


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
