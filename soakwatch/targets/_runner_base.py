"""The runners' common surface: the plan, chunk sizes, slot threads, pause/stop and hand-over to the recorder."""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from soakwatch._calldata import CallValues
from soakwatch.config.safetext import exc_text
from soakwatch.core.inject import Injector
from soakwatch.core.plugins import WorkerControl
from soakwatch.core.recorder import ErrorRecord, Recorder, ResultBatch
from soakwatch.core.verdict import Verdict
from soakwatch.targets import loops
from soakwatch.targets.allocator import Allocator, BarrierHook
from soakwatch.targets.loops import CHUNK_MAX
from soakwatch.targets.schedule import Arrivals, say_skipped
from soakwatch.targets.shape import ShapedArrivals
from soakwatch.targets.slot_shape import SlotLevels
from soakwatch.targets.spec import TargetSpec

__all__ = ["SUSPEND_NS", "WATCH_SECONDS", "Plan", "Runner", "chunk_size"]

#: a gap this long between two looks of the runner's own thread means the process was suspended
SUSPEND_NS = 1_000_000_000
#: how often the runner's thread looks at its slots (and for a suspension)
WATCH_SECONDS = 0.2


@dataclass(frozen=True)
class Plan:
    """How hard and how long a stage drives its target."""

    calls: int | None
    duration: float | None
    concurrency: int = 1
    rate: float | None = None
    timeout: float = 30.0
    barrier_every: int | None = None
    #: seeds the slots' random streams (injected faults); None: unseeded
    seed: int | None = None
    #: under a rate: an arrival later than this finds no free slot in time and is missed
    grace: float = 0.5
    #: a load shape, (seconds, rate at start, rate at end) per segment; ``rate`` is then its peak
    shape: tuple[tuple[float, float, float], ...] = ()
    #: after a graceful stop, calls in flight get this long to finish before they are cancelled
    stop_grace: float = 10.0
    #: a concurrency shape, (seconds, calls in flight at start, at end) per segment; ``concurrency`` is its peak
    levels: tuple[tuple[float, int, int], ...] = ()


def chunk_size(avg_s: float, plan: Plan) -> int:
    """Calls per chunk: about CHUNK_SECONDS of work; small under an arrival rate."""
    return loops.chunk_size(avg_s, plan.rate, plan.concurrency)


class Runner(ABC):
    """Common control surface of the runners."""

    #: a chunk of the shared slot loops aims to take about this long (soakwatch.targets.loops)
    chunk_seconds: float = loops.CHUNK_SECONDS

    def __init__(
        self,
        plan: Plan,
        recorder: Recorder,
        spec: TargetSpec,
        root: Path | None,
        cases: list[Any] | None,
        on_barrier: BarrierHook | None = None,
    ) -> None:
        self.plan = plan
        self.recorder = recorder
        self.spec = spec
        self.root = root
        self.cases = cases
        self._on_barrier = on_barrier
        self.allocator: Allocator = Allocator(plan.calls, None, plan.barrier_every, on_barrier)
        self._hold = False
        self._start_ns = 0
        self._stop_ns = 0
        #: the due times of an open-model stage (None in the closed model)
        self.arrivals: Arrivals | None = None
        if plan.shape:
            self.arrivals = ShapedArrivals(plan.shape, plan.grace)
        elif plan.rate:
            self.arrivals = Arrivals(plan.rate, plan.grace)
        #: the slot gate of a concurrency shape (None without one)
        self.levels = SlotLevels(plan.levels) if plan.levels else None
        if self.arrivals is not None or self.levels is not None:
            self.allocator.on_hold = self._barrier_hold
        self._active = 0
        self._slot_numbers = 0
        self._active_lock = threading.Lock()
        #: chaos latency/error windows on the driver's calls, read once per chunk
        self.inject = Injector()
        self._streams = 0
        #: calls in flight that a stop cancelled (neither results nor errors: the stage says how many)
        self.cancelled = 0
        #: processes the target left running after its worker ended (killed by soakwatch)
        self.orphans = 0

    def _rng(self) -> random.Random:
        """A random stream for one slot: seeded from the plan's seed (the n-th slot's stream), or not."""
        if self.plan.seed is None:
            return random.Random()
        with self._active_lock:
            self._streams += 1
            n = self._streams
        return random.Random(f"{self.plan.seed}:slot:{n}")

    def slot_rng(self) -> random.Random:
        """A random stream for one slot (see :meth:`_rng`), for the shared slot loops."""
        return self._rng()

    def injected(self, index: int) -> None:
        """Chaos failed call ``index`` before it was made (a shared slot loop's hook; nothing to do here)."""

    def slot_number(self) -> int:
        """0, 1, 2...: the number of the slot that asks, once per slot (a concurrency shape lets slot
        ``k`` start calls while its level is above ``k``)."""
        with self._active_lock:
            self._slot_numbers += 1
            return self._slot_numbers - 1

    def imported_packages(self) -> dict[str, str] | None:
        """Distributions (name → version) the target imported when it loaded, or None when not known."""
        return None

    def worker_control(self) -> WorkerControl | None:
        """The runner's own way to kill and pause its workers for chaos; None: by their pids."""
        return None

    def verdict(self) -> Verdict | None:
        """What the runner could not see (e.g. calls of a lost remote worker), for the verdict line."""
        return None

    def _barrier_hold(self, held: bool) -> None:
        """At a barrier (a snapshot every N calls) the schedule (or the shape) stops, like a pause."""
        for sched in (self.arrivals, self.levels):
            if sched is not None and held:
                sched.pause(why="barrier")
            elif sched is not None:
                sched.resume(why="barrier")

    @abstractmethod
    def prepare(self) -> None:
        """Import the target / start workers; raises UsageError for a target that cannot load."""

    @abstractmethod
    def _slots(self) -> list[Callable[[], None]]:
        """One callable per concurrent slot; each returns when the allocator is exhausted."""

    def run(self) -> None:
        """Run the plan to its end (or until stopped); blocks."""
        self._start_ns = time.perf_counter_ns()
        if self.arrivals is not None:
            self.arrivals.start(self._start_ns)
        if self.levels is not None:
            self.levels.start(self._start_ns)
        if self.plan.duration is not None and not (self.plan.shape or self.plan.levels):  # a shape ends with itself
            self.allocator.deadline = time.monotonic() + self.plan.duration
        threads = [
            threading.Thread(target=self._guard, args=(slot,), name=f"slot-{i}", daemon=True)
            for i, slot in enumerate(self._slots())
        ]
        for th in threads:
            th.start()
        last = time.perf_counter_ns()
        gaps: list[tuple[int, int]] = []
        for th in threads:
            while th.is_alive():
                th.join(WATCH_SECONDS)
                now = time.perf_counter_ns()
                if now - last > SUSPEND_NS:
                    gaps.append((last, now))
                last = now
                gaps = self._say_skipped(gaps, now)
        self._count_unsent()
        self._say_skipped(gaps, 2**62)
        if not self.allocator.stopped:
            self.allocator.final_barrier()
        self.close()

    def _say_skipped(self, gaps: list[tuple[int, int]], now: int) -> list[tuple[int, int]]:
        if self.arrivals is None:
            return []
        return say_skipped(self.arrivals, gaps, now, SUSPEND_NS, self.recorder.events.emit)

    def _count_unsent(self) -> None:
        """Arrivals that fell due before the end (the deadline, or the stop) and that no slot took."""
        arr = self.arrivals
        if arr is None:
            return
        end = min(self._stop_ns or time.perf_counter_ns(), self.deadline_ns - 1)
        due = arr.due_by(end)
        if self.plan.calls is not None:
            due = min(due, self.plan.calls)
        unsent = due - self.allocator.started
        if unsent > 0:
            self.recorder.add(ResultBatch(np.zeros(0, dtype=np.int64), missed=unsent))

    @property
    def planned_rate(self) -> float | None:
        """The arrival rate planned now (the profile's or the shape's), 0 while paused, None in the closed model."""
        if self.plan.rate is None:
            return None
        if isinstance(self.arrivals, ShapedArrivals):
            return 0.0 if self._hold else self.arrivals.rate_at()
        return 0.0 if self._hold else self.plan.rate

    @property
    def planned_concurrency(self) -> int | None:
        """The calls a concurrency shape allows in flight now, 0 while paused; None without one."""
        if self.levels is None:
            return None
        return 0 if self._hold else self.levels.level()

    def held(self) -> bool:
        """True while no new call may start (paused or stopped)."""
        return self._hold

    def _guard(self, slot: Callable[[], None]) -> None:
        try:
            slot()
        except Exception as exc:  # a runner bug must still end the stage with a report
            self.recorder.events.emit("runner_error", f"{type(exc).__name__}: {exc_text(exc)}", "error")

    @property
    def deadline_ns(self) -> int:
        if self.plan.duration is None:
            return 2**62
        if isinstance(self.arrivals, ShapedArrivals):  # from the schedule's start: clients' set-up cuts no segment
            return self.arrivals.origin + int(self.plan.duration * 1e9)
        if self.levels is not None:
            return self.levels.origin + int(self.plan.duration * 1e9)
        return self._start_ns + int(self.plan.duration * 1e9)

    def interval_ns(self) -> int:
        return self.arrivals.interval if self.arrivals is not None else 0

    def pause(self) -> None:
        """No new call starts; under a rate the schedule stops until :meth:`resume`."""
        if self.arrivals is not None:
            self.arrivals.pause()
        if self.levels is not None:
            self.levels.pause()
        self._hold = True
        self.allocator.pause()

    def resume(self) -> None:
        """Calls start again; under a rate the rest of the schedule moves by the time paused."""
        if self.arrivals is not None:
            self.arrivals.resume()
        if self.levels is not None:
            self.levels.resume()
        self._hold = False
        self.allocator.resume()

    def stop(self) -> None:
        """No new call starts; calls in flight finish."""
        self._stop_ns = self._stop_ns or time.perf_counter_ns()
        self._hold = True
        self.allocator.stop()

    def kill(self) -> None:
        """Stop now: calls in flight are abandoned."""
        self.stop()

    def cancel_in_flight(self) -> None:
        """The stop's grace is over (or a second signal came): the calls in flight are cancelled and
        counted in :attr:`cancelled`, not recorded as results or errors."""
        self.cancelled += self.in_flight
        self.kill()

    def close(self) -> None:
        """Release resources after :meth:`run`."""

    def caveats(self) -> list[str]:
        """What the runner saw that a user could not: processes the target left running."""
        if not self.orphans:
            return []
        return [f"{self.orphans} process(es) the target left running were killed"]

    @property
    def in_flight(self) -> int:
        return self._active

    def pids(self) -> dict[str, int]:
        """Processes running the target, by name (none for inline)."""
        return {}

    def enter(self) -> None:
        """A call starts (counted in flight)."""
        with self._active_lock:
            self._active += 1

    def leave(self) -> None:
        with self._active_lock:
            self._active -= 1

    # ---------------------------------------------------------------- shared slot loops
    def hand_over(
        self,
        lat: Sequence[int],
        errs: list[ErrorRecord],
        sched: Sequence[int] | None,
        values: CallValues | None = None,
        missed: int = 0,
    ) -> None:
        """Give a slot's results to the recorder (any thread)."""
        if len(lat) or missed:
            self.recorder.add(
                ResultBatch(
                    np.asarray(lat, dtype=np.int64),
                    errs,
                    np.asarray(sched, dtype=np.int64) if sched is not None else None,
                    values,
                    missed,
                )
            )

    def sync_chunks(self, call: Callable[[int], ErrorRecord | None], want: int = CHUNK_MAX) -> None:
        """One slot's loop for targets whose call is a blocking function of the call index
        (:func:`soakwatch.targets.loops.sync_slot`; ``want`` caps the chunk)."""
        loops.sync_slot(self, call, want)

    async def async_chunks(
        self,
        call: Callable[[int], Awaitable[ErrorRecord | None]],
        want: int = CHUNK_MAX,
        executor: Executor | None = None,
    ) -> None:
        """One slot's loop for targets whose call is a coroutine of the call index
        (:func:`soakwatch.targets.loops.async_slot`; ``want`` caps the chunk)."""
        await loops.async_slot(self, call, want, executor)
