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
import sys
import threading
import time
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from soakwatch._calldata import AnswerSampler, keep_answer, open_slot
from soakwatch.core.inject import INJECTED_KIND
from soakwatch.core.recorder import ErrorRecord, ResultBatch
from soakwatch.targets._imported import imported_distributions
from soakwatch.targets._runner_base import SUSPEND_NS as SUSPEND_NS
from soakwatch.targets._runner_base import WATCH_SECONDS as WATCH_SECONDS
from soakwatch.targets._runner_base import Plan, Runner, chunk_size
from soakwatch.targets.loops import CHUNK_MAX, CHUNK_SECONDS, FLUSH_NS
from soakwatch.targets.schedule import MISSED
from soakwatch.targets.spec import resolve_callable
from soakwatch.targets.worker import error_kind, error_message

__all__ = ["CHUNK_MAX", "CHUNK_SECONDS", "InlineRunner", "Plan", "Runner", "chunk_size"]

#: a call that returned nothing to keep (it raised, or chaos failed it)
_NO_ANSWER = object()


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
        # Kept in one piece for speed (about 100 lines, over the 60-line rule on purpose): this is
        # the per-call hot path of an in-process sync target, at millions of calls/s, where every
        # attribute lookup and helper call per iteration shows in bench/bench_runner.py; hence the
        # locals bound before the loop.
        # Why not one loop shared with loops.sync_slot/async_slot (HTTP, command, async Python) and
        # worker._run_chunk (process-isolated targets)? They differ per call in where a call comes
        # from (a Python callable here; an index-taking callable or a coroutine in loops; a pipe and
        # a shared-memory window in the worker), where a result goes (arrays handed to the
        # recorder here; slots of the shared memory and pipe messages in the worker) and how a
        # timeout is taken (measured here; asyncio.wait_for in the async loops and the worker).
        # A shared loop would test each of those per call, and every per-call branch costs the hot
        # path; the worker also imports only the standard library. So the three stay apart, and a
        # change to the per-call steps (arrivals, chaos faults, answers, flush) is made in all three.
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
        lv, me = self.levels, self.slot_number()  # a concurrency shape: this slot waits while its number >= the level
        per_call = arr is not None or lv is not None
        if not per_call:
            enter()  # closed model: the slot is always in a call; under a rate or a shape, counted per call
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
                    elif lv is not None:
                        if not lv.wait(me, held, deadline):
                            if pc() >= deadline:
                                self.allocator.stop()
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
                    if per_call:
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
            if not per_call:
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
