"""Stage runners: drive a target for a call count or a duration, closed or open model.

Closed model: ``concurrency`` slots each start the next call when the previous one
ends. Open model (``rate``): call *i* is due at ``start + i / rate`` (moved by pauses,
see :mod:`soakwatch.targets.schedule`); a free slot sends it when it is due, one that
is late sends it at once if it is within the grace, and an arrival later than that is
missed (counted, never sent). The latency from the scheduled start (corrected for
coordinated omission, as wrk2 does) is kept beside the latency from the actual start.

:class:`InlineRunner` calls the target in this process (threads for a sync callable,
tasks for an async one). :class:`~soakwatch.targets.process_runner.ProcessRunner` calls it in
worker processes. Both take chunks of call indices from the
:class:`~soakwatch.targets.allocator.Allocator` and hand :class:`ResultBatch` objects to the
recorder.
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
from abc import ABC, abstractmethod
from array import array
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from soakwatch._calldata import AnswerSampler, CallValues, keep_answer, open_slot
from soakwatch.config.safetext import exc_text
from soakwatch.core.inject import INJECTED_KIND, Injector
from soakwatch.core.recorder import ErrorRecord, Recorder, ResultBatch
from soakwatch.targets import loops
from soakwatch.targets._imported import imported_distributions
from soakwatch.targets.allocator import Allocator, BarrierHook
from soakwatch.targets.loops import CHUNK_MAX, CHUNK_SECONDS, FLUSH_NS
from soakwatch.targets.schedule import MISSED, Arrivals, say_skipped
from soakwatch.targets.spec import TargetSpec, resolve_callable
from soakwatch.targets.worker import error_kind, error_message

__all__ = ["CHUNK_MAX", "CHUNK_SECONDS", "InlineRunner", "Plan", "Runner", "chunk_size"]

#: a call that returned nothing to keep (it raised, or chaos failed it)
_NO_ANSWER = object()
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


def chunk_size(avg_s: float, plan: Plan) -> int:
    """Calls per chunk: about CHUNK_SECONDS of work; small under an arrival rate."""
    return loops.chunk_size(avg_s, plan.rate, plan.concurrency)


class Runner(ABC):
    """Common control surface of the runners."""

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
        self.arrivals: Arrivals | None = Arrivals(plan.rate, plan.grace) if plan.rate else None
        if self.arrivals is not None:
            self.allocator.on_hold = self._barrier_hold
        self._active = 0
        self._active_lock = threading.Lock()
        #: chaos latency/error windows on the driver's calls, read once per chunk
        self.inject = Injector()
        self._streams = 0

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

    def imported_packages(self) -> dict[str, str] | None:
        """Distributions (name → version) the target imported when it loaded, or None when not known."""
        return None

    def _barrier_hold(self, held: bool) -> None:
        """At a barrier (a snapshot every N calls) the schedule stops, like a pause."""
        assert self.arrivals is not None
        if held:
            self.arrivals.pause(why="barrier")
        else:
            self.arrivals.resume(why="barrier")

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
        if self.plan.duration is not None:
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
        """The arrival rate planned now: the profile's, 0 while paused or stopped, None in the closed model."""
        if self.plan.rate is None:
            return None
        return 0.0 if self._hold else self.plan.rate

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
        return self._start_ns + int(self.plan.duration * 1e9)

    def interval_ns(self) -> int:
        return self.arrivals.interval if self.arrivals is not None else 0

    def pause(self) -> None:
        """No new call starts; under a rate the schedule stops until :meth:`resume`."""
        if self.arrivals is not None:
            self.arrivals.pause()
        self._hold = True
        self.allocator.pause()

    def resume(self) -> None:
        """Calls start again; under a rate the rest of the schedule moves by the time paused."""
        if self.arrivals is not None:
            self.arrivals.resume()
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

    def close(self) -> None:
        """Release resources after :meth:`run`."""

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


class InlineRunner(Runner):
    """Calls the target in this process: threads for sync callables, tasks for async ones."""

    fn: Callable[..., Any]

    def prepare(self) -> None:
        before = set(sys.modules)
        self.fn, self.is_async = resolve_callable(self.spec, self.root)
        # modules this process had already imported (numpy, pydantic...) are not the target's here
        self._packages = imported_distributions(before, self.spec.spec.partition(":")[0])

    def imported_packages(self) -> dict[str, str] | None:
        return self._packages

    def _slots(self) -> list[Callable[[], None]]:
        if self.is_async:
            return [self._async_main]
        return [self._sync_slot for _ in range(self.plan.concurrency)]

    def _sync_slot(self) -> None:
        # one long function on purpose: this is the hot path at millions of calls/s, where every
        # attribute lookup and call per iteration shows in bench/bench_runner.py
        fn = self.fn
        cases = self.cases
        nc = len(cases) if cases else 0
        pc = time.perf_counter_ns
        tmo = int(self.plan.timeout * 1e9)
        deadline = self.deadline_ns
        arr = self.arrivals
        held = self.held
        rec = self.recorder
        want = 1
        rng = self._rng()
        buf = open_slot()
        answers = AnswerSampler.from_env(threading.current_thread().name)  # None unless [record] asks
        enter, leave = self.enter, self.leave
        if arr is None:
            enter()  # closed model: the slot is always in a call; under a rate, counted per call
        try:
            while True:
                chunk = self.allocator.next(want)
                if chunk is None:
                    return
                start, count = chunk
                lat = array("q")
                sched = array("q") if arr is not None else None
                errs: list[ErrorRecord] = []
                add = lat.append
                done = missed = 0
                due = 0
                fault = self.inject.active  # None unless a chaos latency/errors window is open
                c0 = pc()
                t1 = c0
                limit = min(deadline, c0 + FLUSH_NS)  # results reach the recorder well within a tick
                for i in range(start, start + count):
                    if self._hold:
                        break
                    if arr is not None:
                        if arr.due(i) >= deadline:
                            self.allocator.stop()
                            break
                        due = arr.wait(i, held)
                        if due == MISSED:
                            missed += 1
                            arr.note_missed(i)
                            done += 1
                            continue
                        if due == 0:
                            break
                        enter()
                    t0 = pc()
                    buf.index = i
                    buf.start = t0
                    res: Any = _NO_ANSWER
                    try:
                        if fault is not None and (injected := fault.before_call(rng)) is not None:
                            errs.append(ErrorRecord(INJECTED_KIND, injected, i))
                        elif nc:
                            res = fn(cases[i % nc])  # type: ignore[index]
                        else:
                            res = fn()
                    except BaseException as exc:
                        t1 = pc()
                        errs.append(ErrorRecord(error_kind(exc), error_message(exc), i, latency_ns=t1 - t0))
                    else:
                        t1 = pc()
                        if t1 - t0 > tmo:
                            took = f"call took {(t1 - t0) / 1e9:.1f}s (timeout {self.plan.timeout:g}s)"
                            errs.append(ErrorRecord("Timeout", took, i, True, latency_ns=t1 - t0))
                    add(t1 - t0)
                    if answers is not None and res is not _NO_ANSWER and answers.wants(i):
                        answers.keep(buf, i, cases[i % nc] if nc else None, res)  # type: ignore[index]
                    if sched is not None:
                        sched.append(t1 - due)
                        leave()
                    done += 1
                    if t1 >= limit:
                        if t1 >= deadline:
                            self.allocator.stop()
                        break
                if lat or missed:
                    rec.add(
                        ResultBatch(
                            np.frombuffer(lat, dtype=np.int64).copy(),
                            errs,
                            np.frombuffer(sched, dtype=np.int64).copy() if sched is not None else None,
                            buf.take(),
                            missed,
                        )
                    )
                self.allocator.done(start, count, done)
                if missed and arr is not None:  # skipping a backlog: take the late indices in one go
                    want = min(CHUNK_MAX, arr.late_count(start + done, pc()))
                else:
                    want = chunk_size((t1 - c0) / len(lat) / 1e9 if lat else 0.0, self.plan)
        finally:
            if arr is None:
                leave()

    def _async_main(self) -> None:
        asyncio.run(self._async_run())

    async def _async_run(self) -> None:
        await asyncio.gather(*(self._async_slot() for _ in range(self.plan.concurrency)))

    async def _async_slot(self) -> None:
        fn = self.fn
        cases = self.cases
        nc = len(cases) if cases else 0
        timeout = self.plan.timeout

        answers = AnswerSampler.from_env(f"task-{id(asyncio.current_task())}")

        async def call(i: int) -> ErrorRecord | None:
            try:
                coro = fn(cases[i % nc]) if nc else fn()  # type: ignore[index]
                res = await asyncio.wait_for(coro, timeout)
                if answers is not None and answers.wants(i):
                    keep_answer(answers, i, cases[i % nc] if nc else None, res)  # type: ignore[index]
            except TimeoutError:
                return ErrorRecord("Timeout", f"call exceeded {timeout:g}s", i, True)
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except BaseException as exc:
                return ErrorRecord(error_kind(exc), error_message(exc), i)
            return None

        await self.async_chunks(call, 64)
