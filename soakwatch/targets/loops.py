"""The slot loops shared by the runners whose call is a function of the call index (HTTP, command,
async Python): one loop per concurrency slot, each call in flight on its own.

A slot asks the allocator for a chunk sized to about :data:`CHUNK_SECONDS` of calls (one call
while their duration is unknown, and whenever a call takes longer than that), and hands its
results to the recorder when the chunk ends or :data:`FLUSH_SECONDS` after it began, whichever
comes first: ``concurrency`` calls are in flight whatever the call count, and a call's result
reaches the recorder within a tick of its end. Under an arrival rate each index waits for its
due time (:class:`~soakwatch.targets.schedule.Arrivals`); an index more than the grace late is
missed, counted and not sent. Under a concurrency shape each slot waits before each call until
the shape's level is above its number (:class:`~soakwatch.targets.slot_shape.SlotLevels`).
"""

from __future__ import annotations

import asyncio
import random
import time
from array import array
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Protocol

from soakwatch._calldata import CallValues, open_slot
from soakwatch.core.inject import INJECTED_KIND, Injector
from soakwatch.core.recorder import ErrorRecord
from soakwatch.targets.allocator import WOULD_BLOCK, Allocator
from soakwatch.targets.schedule import MISSED, Arrivals
from soakwatch.targets.slot_shape import SlotLevels

__all__ = [
    "CANCELLED",
    "CHUNK_MAX",
    "CHUNK_SECONDS",
    "FLUSH_SECONDS",
    "SlotRunner",
    "async_slot",
    "chunk_size",
    "sync_slot",
]


class _Plan(Protocol):
    @property
    def rate(self) -> float | None: ...
    @property
    def concurrency(self) -> int: ...


class SlotRunner(Protocol):
    """What a slot loop needs of its runner (:class:`soakwatch.targets.runner.Runner`)."""

    allocator: Allocator
    arrivals: Arrivals | None
    levels: SlotLevels | None
    inject: Injector
    #: a chunk aims to take about this long (CHUNK_SECONDS)
    chunk_seconds: float

    @property
    def plan(self) -> _Plan: ...
    @property
    def deadline_ns(self) -> int: ...
    def held(self) -> bool: ...
    def slot_rng(self) -> random.Random: ...
    def slot_number(self) -> int: ...
    def injected(self, index: int) -> None: ...
    def enter(self) -> None: ...
    def leave(self) -> None: ...
    def hand_over(
        self,
        lat: array[int],
        errs: list[ErrorRecord],
        sched: array[int] | None,
        values: CallValues | None = None,
        missed: int = 0,
    ) -> None: ...


#: a chunk aims to take about this long, so pause and stop act quickly
CHUNK_SECONDS = 0.02
CHUNK_MAX = 8192
#: a slot hands its results over at least this often (well within a tick)
FLUSH_SECONDS = 0.1
FLUSH_NS = int(FLUSH_SECONDS * 1e9)
#: indices a slot takes at once while it skips missed arrivals
MISSED_CHUNK_MAX = 4096
#: what a call returns when the stop cancelled it (its runner was killed): neither a result nor an
#: error; the runner counts it (``Runner.cancelled``)
CANCELLED = ErrorRecord("Cancelled", "cancelled by the stop", -1)


def chunk_size(avg_s: float, rate: float | None, concurrency: int, seconds: float = CHUNK_SECONDS) -> int:
    """Calls per chunk: about ``seconds`` (CHUNK_SECONDS) of work; small under an arrival rate."""
    if rate is not None:
        return max(1, min(64, int(rate * 0.01 / concurrency)))
    if avg_s <= 0:
        return 1
    return max(1, min(CHUNK_MAX, int(seconds / avg_s)))


@dataclass
class _Chunk:
    """What one slot did with one chunk."""

    lat: array[int] = field(default_factory=lambda: array("q"))
    sched: array[int] = field(default_factory=lambda: array("q"))
    errs: list[ErrorRecord] = field(default_factory=list)
    done: int = 0
    missed: int = 0
    last: int = -1

    def miss(self, arrivals: Arrivals, i: int) -> None:
        """Arrival ``i`` was more than the grace late: counted as missed, not called."""
        self.missed += 1
        arrivals.note_missed(i)
        self.done += 1
        self.last = i


def _next_want(runner: SlotRunner, ch: _Chunk, c0: int, t1: int, cap: int) -> int:
    arr = runner.arrivals
    if ch.missed and arr is not None:  # skipping a backlog: take the late indices in one go
        return min(MISSED_CHUNK_MAX, arr.late_count(ch.last + 1, time.perf_counter_ns()))
    calls = len(ch.lat)
    avg = (t1 - c0) / calls / 1e9 if calls else 0.0
    return min(cap, chunk_size(avg, runner.plan.rate, runner.plan.concurrency, runner.chunk_seconds))


def _finish(runner: SlotRunner, start: int, count: int, ch: _Chunk, values: CallValues | None) -> None:
    runner.hand_over(ch.lat, ch.errs, ch.sched if runner.arrivals is not None else None, values, ch.missed)
    runner.allocator.done(start, count, ch.done)


def sync_slot(runner: SlotRunner, call: Callable[[int], ErrorRecord | None], cap: int = CHUNK_MAX) -> None:
    """One slot's loop for a blocking call of the call index (the inline sync slot keeps its own
    tighter loop: it is the hot path at a million calls/s)."""
    pc = time.perf_counter_ns
    arr = runner.arrivals
    held = runner.held
    deadline = runner.deadline_ns
    rng = runner.slot_rng()
    lv, me = runner.levels, runner.slot_number()
    buf = open_slot()  # this slot's own: values reported by its calls land here
    want = 1
    while (chunk := runner.allocator.next(want)) is not None:
        start, count = chunk
        ch = _Chunk()
        fault = runner.inject.active
        c0 = t1 = pc()
        limit = min(deadline, c0 + FLUSH_NS)
        try:
            for i in range(start, start + count):
                if held():
                    break
                due = 0
                if arr is not None:
                    if arr.due(i) >= deadline:
                        runner.allocator.stop()
                        break
                    due = arr.wait(i, held)
                    if due == MISSED:
                        ch.miss(arr, i)
                        continue
                    if due == 0:
                        break
                elif lv is not None and not _past(runner, lv.wait(me, held, deadline), deadline):
                    break
                t0 = pc()
                buf.index, buf.start = i, t0
                runner.enter()
                try:
                    if fault is not None and (injected := fault.before_call(rng)) is not None:
                        err: ErrorRecord | None = _injected(runner, injected, i)
                    else:
                        err = call(i)
                finally:
                    runner.leave()
                t1 = pc()
                if err is CANCELLED:
                    break
                _record(ch, i, t0, t1, due, err)
                if t1 >= limit:
                    if t1 >= deadline:
                        runner.allocator.stop()
                    break
        finally:
            _finish(runner, start, count, ch, buf.take())
        want = _next_want(runner, ch, c0, t1, cap)


def _injected(runner: SlotRunner, message: str, i: int) -> ErrorRecord:
    """Chaos failed call ``i`` before it was made; the runner attributes it (an HTTP mix: to the
    endpoint of call ``i``, so the per-endpoint errors sum to the total)."""
    runner.injected(i)
    return ErrorRecord(INJECTED_KIND, message, i)


def _past(runner: SlotRunner, may_call: bool, deadline: int) -> bool:
    """``may_call`` (the shape's level let the slot call); when not and the stage's end passed
    while the slot waited, no further call starts."""
    if not may_call and time.perf_counter_ns() >= deadline:
        runner.allocator.stop()
    return may_call


def _record(ch: _Chunk, i: int, t0: int, t1: int, due: int, err: ErrorRecord | None) -> None:
    if err is not None:
        ch.errs.append(replace(err, latency_ns=t1 - t0))
    ch.lat.append(t1 - t0)
    if due:
        ch.sched.append(t1 - due)
    ch.done += 1
    ch.last = i


async def _next_chunk(runner: SlotRunner, want: int, executor: Executor | None) -> tuple[int, int] | None:
    """The allocator blocks (pause, barriers), so it is asked from ``executor`` threads only when
    it would; otherwise at once, without a thread hop."""
    got = runner.allocator.try_next(want)
    if got != WOULD_BLOCK:
        await asyncio.sleep(0)  # the other slots' turn, even when every call of a chunk finished at once
        return got
    return await asyncio.get_running_loop().run_in_executor(executor, runner.allocator.next, want)


async def async_slot(
    runner: SlotRunner,
    call: Callable[[int], Awaitable[ErrorRecord | None]],
    cap: int = CHUNK_MAX,
    executor: Executor | None = None,
) -> None:
    """One slot's loop for a coroutine of the call index (a line over 60: the per-call steps stay
    in one place, in the same order as :func:`sync_slot`)."""
    pc = time.perf_counter_ns
    arr = runner.arrivals
    held = runner.held
    deadline = runner.deadline_ns
    rng = runner.slot_rng()
    lv, me = runner.levels, runner.slot_number()
    buf = open_slot()  # this slot's own: values reported by its calls land here
    want = 1
    while (chunk := await _next_chunk(runner, want, executor)) is not None:
        start, count = chunk
        ch = _Chunk()
        fault = runner.inject.active
        c0 = t1 = pc()
        limit = min(deadline, c0 + FLUSH_NS)
        try:
            for i in range(start, start + count):
                if held():
                    break
                due = 0
                if arr is not None:
                    if arr.due(i) >= deadline:
                        runner.allocator.stop()
                        break
                    due = await arr.wait_async(i, held)
                    if due == MISSED:
                        ch.miss(arr, i)
                        continue
                    if due == 0:
                        break
                elif lv is not None and not _past(runner, await lv.wait_async(me, held, deadline), deadline):
                    break
                t0 = pc()
                buf.index, buf.start = i, t0
                runner.enter()
                try:
                    if fault is not None and (injected := await fault.before_call_async(rng)) is not None:
                        err: ErrorRecord | None = _injected(runner, injected, i)
                    else:
                        err = await call(i)
                finally:
                    runner.leave()
                t1 = pc()
                if err is CANCELLED:
                    break
                _record(ch, i, t0, t1, due, err)
                if t1 >= limit:
                    if t1 >= deadline:
                        runner.allocator.stop()
                    break
        finally:
            _finish(runner, start, count, ch, buf.take())
        want = _next_want(runner, ch, c0, t1, cap)
