"""One load process of a sharded HTTP stage (``[http] load_processes``): the same asyncio slot loop
as the in-process HTTP target (:class:`soakwatch.targets.http.HttpRunner`), for its share of the
slots, linked to the stage's process by one pipe.

The link stands in for the allocator and the recorder of the stage: a slot asks the stage for a
chunk of call indices (the reply carries the arrival schedule's base and the open chaos window),
and when the chunk ends its results (the :class:`~soakwatch.core.recorder.ResultBatch`, losslessly:
every latency, error, scheduled-start latency, per-call value and missed arrival) travel back in
one message with the count of calls done, together with the cumulative series the target publishes
(tokens, per-endpoint counts). Pause and stop are a hold flag in shared memory, read before each
call; the calls in flight are counted there too. The protocol of the stage's side is in
:mod:`soakwatch.targets.http_shard`.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.core.inject import Fault
from soakwatch.core.recorder import ResultBatch
from soakwatch.targets._lifeline import set_lifeline
from soakwatch.targets.allocator import WOULD_BLOCK
from soakwatch.targets.http import HttpRunner
from soakwatch.targets.runner import Plan
from soakwatch.targets.spec import TargetSpec

__all__ = ["HOLD", "IN_FLIGHT", "SHARED_SLOTS", "main"]

#: the shared array of one load process: its hold flag (written by the stage) and its calls in flight
HOLD, IN_FLIGHT = 0, 1
SHARED_SLOTS = 2
#: how long a slot waiting for its chunk looks again whether the process is ending
REPLY_POLL = 0.25
#: after its slots ended, how long the process waits for the chunk replies still on their way
EXIT_WAIT = 5.0
#: a load process's chunk aims to take about this long
LOAD_CHUNK_SECONDS = 0.08


class _CallValuesStub:
    """What the HTTP target sets on the recorder's call-value store (kept by the stage's recorder)."""

    request_id_prefix = ""
    in_use = False


class _Events:
    def __init__(self, link: _Link) -> None:
        self._link = link

    def emit(self, kind: str, message: str, level: str = "info", **fields: Any) -> None:
        if kind != "http_client":  # the stage said it once for every load process
            self._link.send(("event", kind, message, level, fields))


class _Link:
    """The stage's allocator and recorder as seen from a load process."""

    def __init__(self, conn: Connection, shared: Any) -> None:
        self.conn = conn
        self.shared = shared
        self.events = _Events(self)
        self.callvalues = _CallValuesStub()
        self.run_dir: Path | None = None
        self.runner: _LoadRunner | None = None
        self.stopped = False
        self.closing = threading.Event()
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        #: chunks received and not yet taken: (start, count, schedule base, chaos window)
        self._ready: collections.deque[tuple[int, int, int, Any]] = collections.deque()
        self._pending = 0
        self._waiting = 0
        self._exhausted = False
        #: chunks asked for ahead of the slots (none under a rate: an index waits for its due time)
        self.prefetch = 0
        self._batch: ResultBatch | None = None
        self._sets: dict[str, tuple[float, str]] = {}

    def send(self, msg: tuple[Any, ...]) -> None:
        with self._send_lock:
            self.conn.send(msg)

    # ---------------------------------------------------------------- the recorder's side
    def declare(self, name: str, unit: str = "") -> None:
        """Declared by the stage's own HttpRunner.prepare."""

    def set(self, name: str, value: float, unit: str = "") -> None:
        self._sets[name] = (float(value), unit)

    def add(self, batch: ResultBatch) -> None:
        # a slot hands its chunk over and gives the chunk back in one synchronous step (loops._finish):
        # kept until done() sends both in one message
        self._batch = batch

    # ---------------------------------------------------------------- the allocator's side
    # Chunks come over the pipe; under the closed model up to ``prefetch`` more are asked for ahead,
    # so a slot that ends a chunk finds its next one here without waiting for the round trip.
    def _ask(self, want: int) -> None:
        self._pending += 1
        self.send(("next", next(self._ids), want))

    def _take(self, want: int) -> tuple[int, int] | None:
        """A chunk from those received, None when the stage has no more, WOULD_BLOCK (held by the cond)."""
        if self._ready and not self.stopped:  # once a slot stopped the stage, those left go back
            start, count, base, fault = self._ready.popleft()
            if not self._exhausted and self._pending + len(self._ready) < self.prefetch:
                self._ask(want)
            runner = self.runner
            assert runner is not None
            if runner.arrivals is not None:
                runner.arrivals.origin, runner.arrivals.shift = base, 0
            runner.inject.active = Fault.from_wire(fault)
            return int(start), int(count)
        if self._exhausted or self.stopped or self.closing.is_set():
            return None
        while self._pending < self._waiting:
            self._ask(want)
        return WOULD_BLOCK

    def try_next(self, want: int) -> tuple[int, int] | None:
        with self._cond:
            return self._take(want)

    def next(self, want: int) -> tuple[int, int] | None:
        with self._cond:
            self._waiting += 1
            try:
                while (got := self._take(want)) == WOULD_BLOCK:
                    self._cond.wait(REPLY_POLL)
                return got
            finally:
                self._waiting -= 1

    def give_back(self) -> None:
        """At the end: the chunks received and not run go back to the stage (the replies still on
        their way first)."""
        deadline = time.monotonic() + EXIT_WAIT
        with self._cond:
            while self._pending and time.monotonic() < deadline and not self.closing.is_set():
                self._cond.wait(REPLY_POLL)
            ready, self._ready = list(self._ready), collections.deque()
        for start, count, _, _ in ready:
            self.send(("done", start, count, 0, None, {}))

    def done(self, start: int, count: int, completed: int) -> None:
        batch, self._batch = self._batch, None
        sets, self._sets = self._sets, {}
        self.send(("done", start, count, completed, batch, sets))

    def stop(self) -> None:
        self.stopped = True
        self.send(("stop",))

    # ---------------------------------------------------------------- the stage's messages
    def listen(self) -> None:
        """The reader thread: chunk replies, kill, exit."""
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                msg = ("exit",)
            if msg[0] == "chunk":
                with self._cond:
                    self._pending -= 1
                    if msg[2] is None:
                        self._exhausted = True  # the stage's allocator is done for good (or stopped)
                    else:
                        self._ready.append(msg[2])
                    self._cond.notify_all()
            elif msg[0] == "kill" and self.runner is not None:
                self.runner.kill()
            elif msg[0] == "exit":
                self.closing.set()
                with self._cond:
                    self._cond.notify_all()
                return


class _LoadRunner(HttpRunner):
    """The HTTP target's slots in a load process: hold flag and calls in flight in shared memory."""

    link: _Link
    #: each chunk costs two messages over the pipe: longer chunks than in one process (results
    #: still reach the stage within FLUSH_SECONDS, and the hold flag is read before every call)
    chunk_seconds = LOAD_CHUNK_SECONDS

    def held(self) -> bool:
        return bool(self.link.shared[HOLD])

    def enter(self) -> None:  # the slots run on this process's one event loop thread
        self.link.shared[IN_FLIGHT] += 1

    def leave(self) -> None:
        self.link.shared[IN_FLIGHT] -= 1


def main(
    conn: Connection,
    shared: Any,
    config: HttpConfig,
    plan: Plan,
    spec: TargetSpec,
    root: str | None,
    cases: list[Any] | None,
    tag: str,
    monitor_pid: int,
) -> None:
    """Load process entry point (run in a spawned process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stage decides when to stop
    set_lifeline(monitor_pid)
    link = _Link(conn, shared)
    runner = _LoadRunner(plan, link, spec, Path(root) if root else None, cases, None, config=config)
    runner.link = link
    runner.allocator = link  # type: ignore[assignment]
    link.runner = runner
    try:
        runner.prepare()
    except UsageError as exc:
        conn.send(("fatal", str(exc)))
        return
    runner.tag = tag
    link.prefetch = 0 if plan.rate else plan.concurrency
    conn.send(("ready",))
    msg = conn.recv()
    if msg[0] != "start":
        return
    runner._start_ns = int(msg[1])
    threading.Thread(target=link.listen, name="soakwatch-load-link", daemon=True).start()
    try:
        asyncio.run(runner._main())
    except BaseException as exc:  # a bug here must reach the stage's events, not vanish with the process
        link.send(("event", "runner_error", f"load process: {type(exc).__name__}: {exc}", "error", {}))
    link.give_back()
    link.send(("ended",))
    # everything is in the pipe: no interpreter teardown (the slots' thread pool, aiohttp's
    # finalizers), so an abort ends the process at once
    os._exit(0)
