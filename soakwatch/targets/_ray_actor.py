"""One slot of a stage on a Ray cluster: the actor that loads the target and runs its chunks.

The calls are made by :func:`soakwatch.targets.worker._run_chunk`, the same per-call loop as a
process-isolated worker's, over a window of this process's memory instead of a shared file:
errors are collected as the worker would send them, latencies are read from the window at the
end of the chunk and returned to the coordinator in one reply (a chunk ends after
``worker.FLUSH_NS`` at the latest). The actor is threaded (a few concurrent methods), so
``hold`` (pause, stop) reaches a chunk in progress at its next call, and ``progress`` reads
what a chunk that hangs has done so far.

This module imports no Ray: the coordinator wraps :class:`SlotActor` with ``ray.remote``.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
import threading
import time
from typing import Any

import psutil

from soakwatch._calldata import AnswerSampler, CallValues, open_slot
from soakwatch.targets import worker as _worker
from soakwatch.targets._imported import imported_distributions
from soakwatch.targets.loops import CHUNK_MAX

__all__ = ["HOLD_CHAOS", "HOLD_STAGE", "ActorBase", "ActorFacts", "ChunkResult", "SlotActor", "host_key"]

#: (is_async, node ip, Ray node id, pid, host key, packages imported by the target)
#: the bits of the hold word: the stage's (pause, stop) and a chaos pause of this actor alone
HOLD_STAGE = 1
HOLD_CHAOS = 2
ActorFacts = tuple[bool, str, str, int, str, dict[str, str]]
#: (calls done, their latencies in ns as int64 bytes (``worker.MISSED_LAT``: an arrival missed),
#: errors as (index, kind, message, timeout), values, under a rate the latencies from the due times)
ChunkResult = tuple[int, bytes, list[tuple[int, str, str, bool]], CallValues | None, bytes | None]


def host_key() -> str:
    """Which kernel and PID namespace this process lives in: two processes with the same key
    can signal each other's pids (a Ray node on another machine or in another container cannot)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = fh.read().strip()
        return f"{boot}:{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return f"{socket.gethostname()}:unknown"


class _Errors:
    """Stands in for the worker's pipe: keeps the ``("err", ...)`` messages of a chunk."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str, str, bool]] = []

    def send(self, msg: tuple[Any, ...]) -> None:
        if msg[0] == "err":
            _, i, kind, message, is_tmo = msg
            self.items.append((int(i), str(kind), str(message), bool(is_tmo)))


class ActorBase:
    """What every slot actor answers besides its chunks: who and where it is, the hold word
    (the stage's pause and stop, a chaos pause), its memory and CPU."""

    _is_async: bool
    _packages: dict[str, str]

    def __init__(self, words: int) -> None:
        self._mem = bytearray(words * 8)
        self._view = memoryview(self._mem).cast("q")
        self._bits = threading.Lock()

    def ready(self) -> ActorFacts:
        """Who and where this actor is."""
        import ray

        ctx = ray.get_runtime_context()
        ip = str(ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]
        return self._is_async, ip, ctx.get_node_id(), os.getpid(), host_key(), self._packages

    def hold(self, value: int) -> None:
        """1: no new call starts (the stage's pause, stop); 0: calls go on."""
        self._hold_bit(HOLD_STAGE, value)

    def pause(self, value: int) -> None:
        """1: no new call starts (chaos ``pause_worker``), whatever the stage's hold; 0: its end."""
        self._hold_bit(HOLD_CHAOS, value)

    def _hold_bit(self, bit: int, on: int) -> None:
        # the calls read the word as a whole (any bit holds); two methods may set bits at once
        with self._bits:
            held = int(self._view[_worker.HOLD])
            self._view[_worker.HOLD] = held | bit if on else held & ~bit

    def stats(self) -> tuple[float, float]:
        """This actor's resident memory (MB) and CPU time (s) so far, measured on its node."""
        proc = psutil.Process()  # psutil: the same on every platform Ray runs on
        cpu = proc.cpu_times()
        return proc.memory_info().rss / 1e6, cpu.user + cpu.system


class SlotActor(ActorBase):
    """Loads the target once; runs chunks of calls on request."""

    def __init__(
        self, spec: str, root: str | None, cases: list[Any], timeout: float, env: dict[str, str], name: str
    ) -> None:
        os.environ.update(env)  # the seed and [record] sampling the stage exported
        before = set(sys.modules)
        self._fn, self._is_async = _worker._load(spec, root)
        self._packages = imported_distributions(before, spec.partition(":")[0])
        self._loop = asyncio.new_event_loop() if self._is_async else None
        self._cases = cases
        self._timeout = timeout
        super().__init__(_worker.shm_size(CHUNK_MAX) // 8)
        seed = os.environ.get("SOAKWATCH_SEED")
        self._rng = random.Random(f"{seed}:{name}") if seed else random.Random()
        self._answers = AnswerSampler.from_env(name)
        self._errors = _Errors()

    def run(
        self,
        start: int,
        count: int,
        remaining_ns: int,
        fault: Any,
        base_in_ns: int = 0,
        interval: int = 0,
        grace: int = 0,
    ) -> ChunkResult:
        """Calls ``start`` .. ``start + count - 1`` (fewer when held, past the deadline or the flush time).

        Under a rate, call ``i`` is due ``base_in_ns + i * interval`` ns after the coordinator sent
        the chunk: only durations travel, the due times are on this node's clock."""
        view = self._view
        self._errors = errors = _Errors()
        buf = open_slot()
        now = time.perf_counter_ns()
        deadline = now + remaining_ns
        done = _worker._run_chunk(
            errors,  # type: ignore[arg-type]  # only send() is used
            view, self._fn, self._loop, self._cases, start, count, now + base_in_ns, interval, deadline, self._timeout,
            fault, self._rng, buf, self._answers, grace,
        )  # fmt: skip
        lat = bytes(view[_worker.HEADER : _worker.HEADER + done].cast("B"))
        sched0 = _worker.HEADER + CHUNK_MAX
        sched = bytes(view[sched0 : sched0 + done].cast("B")) if interval else None
        return done, lat, errors.items, buf.take(), sched

    def progress(self) -> tuple[int, int, bytes, list[tuple[int, str, str, bool]]]:
        """A chunk in progress: calls done, the start (ns, this node's clock) of the call in
        progress or 0, the latencies so far, the errors so far; and the time now in the same clock."""
        view = self._view
        done = int(view[_worker.DONE])
        current = int(view[_worker.CURRENT])
        age = time.perf_counter_ns() - current if current else 0
        lat = bytes(view[_worker.HEADER : _worker.HEADER + done].cast("B"))
        return done, age, lat, list(self._errors.items)
