"""Faults added to the driver's own requests: chaos ``latency`` and ``errors`` windows.

The chaos plugin opens and closes windows on the runner's :class:`Injector`; the slot
loops read :attr:`Injector.active` once per chunk (a chunk lasts about 20 ms, see
:data:`soakwatch.targets.runner.CHUNK_SECONDS`) and, only when a window is open, ask the
:class:`Fault` before each call. With no window open the cost per call is one local
``None`` check. Worker processes get the fault with each chunk as a plain tuple
(:meth:`Fault.to_wire`), so the same rule applies there.

An injected error is recorded like any failed call, with kind :data:`INJECTED_KIND`;
added latency is slept before the call and counts in its latency.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["INJECTED_KIND", "Fault", "Injector", "WireFault"]

INJECTED_KIND = "ChaosInjected"
#: (latency seconds, share of calls delayed, share of calls failed, names of the windows)
WireFault = tuple[float, float, float, str]


@dataclass(frozen=True)
class Fault:
    """What the open windows do to each call (the sum of their effects)."""

    latency_s: float = 0.0
    latency_ratio: float = 0.0
    error_ratio: float = 0.0
    names: str = ""

    def decide(self, rnd: float, rnd2: float) -> tuple[float, str | None]:
        """(seconds to add, error message or None) for one call, from two uniform draws."""
        delay = self.latency_s if rnd < self.latency_ratio else 0.0
        if rnd2 < self.error_ratio:
            return delay, f"injected by chaos {self.names}"
        return delay, None

    def before_call(self, rng: random.Random) -> str | None:
        """Sleep the added latency; the injected error's message, or None to make the call."""
        delay, err = self.decide(rng.random(), rng.random())
        if delay:
            time.sleep(delay)
        return err

    async def before_call_async(self, rng: random.Random) -> str | None:
        delay, err = self.decide(rng.random(), rng.random())
        if delay:
            await asyncio.sleep(delay)
        return err

    def to_wire(self) -> WireFault:
        return (self.latency_s, self.latency_ratio, self.error_ratio, self.names)

    @classmethod
    def from_wire(cls, w: WireFault | None) -> Fault | None:
        return None if w is None else cls(*w)


class Injector:
    """The open latency/error windows of one runner; :attr:`active` is None when there are none."""

    def __init__(self) -> None:
        self.active: Fault | None = None
        self._windows: dict[str, tuple[float, float, float]] = {}
        self._lock = threading.Lock()

    def open(self, name: str, *, latency_s: float = 0.0, latency_ratio: float = 0.0, error_ratio: float = 0.0) -> None:
        with self._lock:
            self._windows[name] = (latency_s, latency_ratio, error_ratio)
            self._recompute()

    def close(self, name: str) -> None:
        with self._lock:
            self._windows.pop(name, None)
            self._recompute()

    def _recompute(self) -> None:
        if not self._windows:
            self.active = None
            return
        lat = [(s, r) for s, r, _ in self._windows.values() if s > 0]
        err = [e for _, _, e in self._windows.values() if e > 0]
        self.active = Fault(
            latency_s=sum(s for s, _ in lat),
            latency_ratio=max((r for _, r in lat), default=0.0),
            # independent windows: a call survives each of them
            error_ratio=1.0 - _product(1.0 - e for e in err),
            names="+".join(sorted(self._windows)),
        )


def _product(values: Iterable[float]) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out
