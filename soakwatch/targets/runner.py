"""Stage runners: drive a target for a call count or a duration, closed or open model.

Closed model: ``concurrency`` slots each start the next call when the previous one
ends. Open model (``rate``): call *i* is scheduled at ``start + i / rate``; a slot
that is late starts it at once, and the latency from the scheduled start (corrected
for coordinated omission, as wrk2 does) is kept beside the latency from the actual
start.

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
from soakwatch.targets._imported import imported_distributions
from soakwatch.targets.allocator import Allocator, BarrierHook
from soakwatch.targets.spec import TargetSpec, resolve_callable
from soakwatch.targets.worker import error_kind, error_message

__all__ = ["InlineRunner", "Plan", "Runner", "chunk_size"]

#: a call that returned nothing to keep (it raised, or chaos failed it)
_NO_ANSWER = object()
#: a chunk aims to take about this long, so pause and stop act quickly
CHUNK_SECONDS = 0.02
CHUNK_MAX = 8192


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


def chunk_size(avg_s: float, plan: Plan) -> int:
    """Calls per chunk: about CHUNK_SECONDS of work; small under an arrival rate."""
    if plan.rate is not None:
        return max(1, min(64, int(plan.rate * 0.01 / plan.concurrency)))
    if avg_s <= 0:
        return 1
    return max(1, min(CHUNK_MAX, int(CHUNK_SECONDS / avg_s)))


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

    def imported_packages(self) -> dict[str, str] | None:
        """Distributions (name → version) the target imported when it loaded, or None when not known."""
        return None

    @abstractmethod
    def prepare(self) -> None:
        """Import the target / start workers; raises UsageError for a target that cannot load."""

    @abstractmethod
    def _slots(self) -> list[Callable[[], None]]:
        """One callable per concurrent slot; each returns when the allocator is exhausted."""

    def run(self) -> None:
        """Run the plan to its end (or until stopped); blocks."""
        self._start_ns = time.perf_counter_ns()
        if self.plan.duration is not None:
            self.allocator.deadline = time.monotonic() + self.plan.duration
        threads = [
            threading.Thread(target=self._guard, args=(slot,), name=f"slot-{i}", daemon=True)
            for i, slot in enumerate(self._slots())
        ]
        for th in threads:
            th.start()
        for th in threads:
            while th.is_alive():
                th.join(0.2)
        if not self.allocator.stopped:
            self.allocator.final_barrier()
        self.close()

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
        return int(1e9 / self.plan.rate) if self.plan.rate else 0

    def pause(self) -> None:
        self._hold = True
        self.allocator.pause()

    def resume(self) -> None:
        self._hold = False
        self.allocator.resume()

    def stop(self) -> None:
        """No new call starts; calls in flight finish."""
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

    def _enter(self) -> None:
        with self._active_lock:
            self._active += 1

    def _leave(self) -> None:
        with self._active_lock:
            self._active -= 1

    # ---------------------------------------------------------------- shared slot loops
    def _hand_over(
        self,
        lat: Sequence[int],
        errs: list[ErrorRecord],
        sched: Sequence[int] | None,
        values: CallValues | None = None,
    ) -> None:
        if len(lat):
            self.recorder.add(
                ResultBatch(
                    np.asarray(lat, dtype=np.int64),
                    errs,
                    np.asarray(sched, dtype=np.int64) if sched is not None else None,
                    values,
                )
            )

    def sync_chunks(self, call: Callable[[int], ErrorRecord | None], want: int) -> None:
        """One slot's loop for targets whose call is a blocking function of the call index
        (the inline sync slot keeps its own tighter loop: it is the hot path at a million calls/s)."""
        pc = time.perf_counter_ns
        interval = self.interval_ns()
        deadline = self.deadline_ns
        rng = self._rng()
        buf = open_slot()
        while (chunk := self.allocator.next(1 if interval else want)) is not None:
            start, count = chunk
            lat, sched, errs = array("q"), array("q"), []
            done = 0
            fault = self.inject.active
            try:
                for i in range(start, start + count):
                    if self._hold:
                        break
                    if interval and (due := self._start_ns + i * interval) > (now := pc()):
                        time.sleep((due - now) / 1e9)
                    t0 = pc()
                    buf.index, buf.start = i, t0
                    self._enter()
                    try:
                        if fault is not None and (injected := fault.before_call(rng)) is not None:
                            err: ErrorRecord | None = ErrorRecord(INJECTED_KIND, injected, i)
                        else:
                            err = call(i)
                    finally:
                        self._leave()
                    t1 = pc()
                    if err is not None:
                        errs.append(err)
                    lat.append(t1 - t0)
                    if interval:
                        sched.append(t1 - (self._start_ns + i * interval))
                    done += 1
                    if t1 >= deadline:
                        self.allocator.stop()
                        break
            finally:
                self._hand_over(lat, errs, sched if interval else None, buf.take())
                self.allocator.done(start, count, done)

    async def async_chunks(
        self, call: Callable[[int], Awaitable[ErrorRecord | None]], want: int, executor: Executor | None = None
    ) -> None:
        """One slot's loop for targets whose call is a coroutine of the call index. The allocator
        blocks (pause, barriers), so it is asked from ``executor`` threads, never the event loop."""
        pc = time.perf_counter_ns
        interval = self.interval_ns()
        deadline = self.deadline_ns
        loop = asyncio.get_running_loop()
        rng = self._rng()
        buf = open_slot()  # this task's own: values reported by its calls land here
        while (chunk := await loop.run_in_executor(executor, self.allocator.next, 1 if interval else want)) is not None:
            start, count = chunk
            lat: list[int] = []
            sched: list[int] = []
            errs: list[ErrorRecord] = []
            done = 0
            fault = self.inject.active
            try:
                for i in range(start, start + count):
                    if self._hold:
                        break
                    if interval and (due := self._start_ns + i * interval) > (now := pc()):
                        await asyncio.sleep((due - now) / 1e9)
                    t0 = pc()
                    buf.index, buf.start = i, t0
                    self._enter()
                    try:
                        if fault is not None and (injected := await fault.before_call_async(rng)) is not None:
                            err: ErrorRecord | None = ErrorRecord(INJECTED_KIND, injected, i)
                        else:
                            err = await call(i)
                    finally:
                        self._leave()
                    t1 = pc()
                    if err is not None:
                        errs.append(err)
                    lat.append(t1 - t0)
                    if interval:
                        sched.append(t1 - (self._start_ns + i * interval))
                    done += 1
                    if t1 >= deadline:
                        self.allocator.stop()
                        break
            finally:
                self._hand_over(lat, errs, sched if interval else None, buf.take())
                self.allocator.done(start, count, done)


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
        fn = self.fn
        cases = self.cases
        nc = len(cases) if cases else 0
        pc = time.perf_counter_ns
        tmo = int(self.plan.timeout * 1e9)
        deadline = self.deadline_ns
        interval = self.interval_ns()
        start_ns = self._start_ns
        sleep = time.sleep
        rec = self.recorder
        avg = 0.0
        rng = self._rng()
        buf = open_slot()
        answers = AnswerSampler.from_env(threading.current_thread().name)  # None unless [record] asks
        self._enter()
        try:
            while True:
                chunk = self.allocator.next(chunk_size(avg, self.plan))
                if chunk is None:
                    return
                start, count = chunk
                lat = array("q")
                sched = array("q") if interval else None
                errs: list[ErrorRecord] = []
                add = lat.append
                done = 0
                fault = self.inject.active  # None unless a chaos latency/errors window is open
                c0 = pc()
                t1 = c0
                for i in range(start, start + count):
                    if self._hold:
                        break
                    if interval:
                        due = start_ns + i * interval
                        now = pc()
                        if due > now:
                            sleep((due - now) / 1e9)
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
                        errs.append(ErrorRecord(error_kind(exc), error_message(exc), i))
                    else:
                        t1 = pc()
                        if t1 - t0 > tmo:
                            errs.append(
                                ErrorRecord(
                                    "Timeout",
                                    f"call took {(t1 - t0) / 1e9:.1f}s (timeout {self.plan.timeout:g}s)",
                                    i,
                                    True,
                                )
                            )
                    add(t1 - t0)
                    if answers is not None and res is not _NO_ANSWER and answers.wants(i):
                        answers.keep(buf, i, cases[i % nc] if nc else None, res)  # type: ignore[index]
                    if sched is not None:
                        sched.append(t1 - (start_ns + i * interval))
                    done += 1
                    if t1 >= deadline:
                        self.allocator.stop()
                        break
                if done:
                    avg = (t1 - c0) / done / 1e9
                    rec.add(
                        ResultBatch(
                            np.frombuffer(lat, dtype=np.int64).copy(),
                            errs,
                            np.frombuffer(sched, dtype=np.int64).copy() if sched else None,
                            buf.take(),
                        )
                    )
                self.allocator.done(start, count, done)
        finally:
            self._leave()

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
