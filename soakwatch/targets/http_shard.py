"""An HTTP stage sharded over load processes (``[http] load_processes = N``, ``--load-processes N``).

The stage's process keeps the plan: one allocator hands out call indices, one arrival schedule says
when they are due, one recorder takes every result. Each load process (:mod:`soakwatch.targets._http_load`)
runs the HTTP target's asyncio slot loop for its share of the concurrency (16 slots over 2 processes:
8 each) and asks the stage for its chunks; a chunk's results come back whole with the count of calls
done, so the figures are those of one process: every latency into the one HDR histogram, every error
with its kind and request id, the missed arrivals, the cumulative series (tokens, per-endpoint counts)
summed over the processes.

Pause and stop set a hold flag the slots read before each call; after a stop the calls in flight get
the stage's ``stop_grace``, then their processes are told to cancel them (counted as cancelled) and
killed if they do not end within :data:`KILL_WAIT`. A load process that dies is a ``worker_crash``
event naming it (``load-K``) and is replaced; the calls of the chunks it held are not recorded (their
answers died with it: the server may have answered some): at most a chunk per slot, said as a caveat
on the verdict line. Chaos ``kill_worker`` picks among the load processes; latency and error windows
travel with each chunk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from soakwatch.config.errors import UsageError
from soakwatch.core.recorder import ResultBatch
from soakwatch.core.verdict import Verdict
from soakwatch.targets import _http_load
from soakwatch.targets._groups import descendants_of, end_group, quiet_resource_tracker
from soakwatch.targets._held import HeldRunner
from soakwatch.targets._http_load import HOLD, IN_FLIGHT, SHARED_SLOTS
from soakwatch.targets.allocator import WOULD_BLOCK
from soakwatch.targets.http import HttpRunner
from soakwatch.targets.shape import ShapedArrivals

__all__ = ["KILL_WAIT", "ShardedHttpRunner", "shares"]

#: how often a driver looks at its load process when nothing arrives
POLL_SECONDS = 0.05
#: time a load process gets to start (import the HTTP client, read the profile's files)
START_TIMEOUT = 60.0
#: after "kill" (abort, or the stop's grace over), how long a load process gets before SIGKILL
KILL_WAIT = 0.5


def shares(concurrency: int, processes: int) -> list[int]:
    """Slots per load process: as even as can be, never an empty process."""
    n = max(1, min(processes, concurrency))
    return [concurrency // n + (1 if k < concurrency % n else 0) for k in range(n)]


@dataclasses.dataclass(eq=False)
class _Shard:
    """One load process: its pipe, its shared hold flag and in-flight count, the chunks it holds."""

    k: int
    proc: Any
    conn: Any
    shared: Any
    restarts: int = 0
    outstanding: dict[int, int] = dataclasses.field(default_factory=dict)
    series: dict[str, tuple[float, str]] = dataclasses.field(default_factory=dict)
    send_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    dead: bool = False
    kill_sent: float = 0.0

    def send(self, msg: tuple[Any, ...]) -> None:
        with self.send_lock, contextlib.suppress(OSError, ValueError):
            self.conn.send(msg)


class ShardedHttpRunner(HeldRunner, HttpRunner):
    """Drives an HTTP endpoint from ``load_processes`` processes, one asyncio loop each."""

    _shards: list[_Shard]
    _closing = False

    def prepare(self) -> None:
        HttpRunner.prepare(self)
        n = self._processes()
        if isinstance(self.arrivals, ShapedArrivals) or self.levels is not None:
            why = "a [[shape]] runs in one load process: set [http] load_processes = 1"
            raise UsageError(why, where="http.load_processes", value=n)
        self._ctx = mp.get_context("spawn")
        quiet_resource_tracker()
        self._shares = shares(self.plan.concurrency, n)
        self._lock = threading.Lock()
        self._dead: list[_Shard] = []
        self.lost = 0
        self._shards = []
        try:
            fresh = [self._spawn(k) for k in range(len(self._shares))]
            self._shards = fresh
            for s in fresh:
                self._await_ready(s)
        except BaseException:
            for s in self._shards:
                self._end(s)
            raise

    def _spawn(self, k: int, restarts: int = 0) -> _Shard:
        shared = self._ctx.RawArray("q", SHARED_SLOTS)
        shared[HOLD] = 1 if self._hold else 0
        parent, child = self._ctx.Pipe()
        plan = dataclasses.replace(self.plan, concurrency=self._shares[k])
        root = str(self.root) if self.root else None
        args = (child, shared, self.config, plan, self.spec, root, self.cases, self.tag, os.getpid())
        proc = self._ctx.Process(target=_http_load.main, args=args, name=f"soakwatch-load-{k}", daemon=True)
        proc.start()
        child.close()
        return _Shard(k, proc, parent, shared, restarts)

    def _await_ready(self, s: _Shard) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not s.conn.poll(POLL_SECONDS):
            if not s.proc.is_alive() or time.monotonic() > deadline:
                raise UsageError(
                    f"load process {s.k} died while starting (exit code {s.proc.exitcode})", where="http.load_processes"
                )
        try:
            msg = s.conn.recv()
        except (EOFError, OSError):
            msg = ("fatal", f"died while starting (exit code {s.proc.exitcode})")
        if msg[0] != "ready":
            raise UsageError(f"load process {s.k}: {msg[1]}", where="--target")

    def _end(self, s: _Shard) -> None:
        """Kill the load process if it still runs, with its process group; close its pipe."""
        with contextlib.suppress(Exception):
            below = descendants_of(s.proc.pid) if s.proc.pid else []
            if s.proc.is_alive():
                s.proc.kill()
            s.proc.join(2)
            if s.proc.pid:
                end_group(s.proc.pid, below)
        with contextlib.suppress(OSError):
            s.conn.close()

    # ---------------------------------------------------------------- the runner's surface
    def _slots(self) -> list[Callable[[], None]]:
        return [lambda k=k: self._drive(k) for k in range(len(self._shards))]  # type: ignore[misc]

    @property
    def in_flight(self) -> int:
        return sum(int(s.shared[IN_FLIGHT]) for s in getattr(self, "_shards", []) if not s.dead)

    def pids(self) -> dict[str, int]:
        if self._closing:
            return {}
        return {f"load-{s.k}": s.proc.pid for s in getattr(self, "_shards", []) if s.proc.pid and not s.dead}

    def _set_hold(self, value: int) -> None:
        for s in getattr(self, "_shards", []):
            s.shared[HOLD] = value

    def verdict(self) -> Verdict | None:
        if not self.lost:
            return None
        return Verdict(caveats=(f"up to {self.lost} calls in flight in load processes that died not recorded",))

    def close(self) -> None:
        self._closing = True
        for s in self._shards:
            s.send(("exit",))
        for s in self._shards:
            s.proc.join(1)
            self._end(s)

    # ---------------------------------------------------------------- driving one load process
    def _drive(self, k: int) -> None:
        self._shards[k].send(("start", self._start_ns))
        while True:
            s = self._shards[k]
            try:
                ready = s.conn.poll(POLL_SECONDS)
                msg = s.conn.recv() if ready else None
            except (EOFError, OSError):
                msg = None
                ready = False
            if msg is not None:
                if msg[0] == "ended":
                    return
                self._handle(s, msg)
                continue
            if not s.proc.is_alive() or ready:
                if not self._crashed(k):
                    return
                continue
            self._watch_stop(s)

    def _handle(self, s: _Shard, msg: tuple[Any, ...]) -> None:
        what = msg[0]
        if what == "done":
            self._done(s, *msg[1:])
        elif what == "next":
            got = self.allocator.try_next(msg[2])
            if got == WOULD_BLOCK:  # paused, or at a barrier: wait in a thread, the pipe keeps flowing
                threading.Thread(target=self._give_later, args=(s, msg[1], msg[2]), daemon=True).start()
            else:
                self._give(s, msg[1], got)
        elif what == "stop":
            self.allocator.stop()
        elif what == "event":
            self.recorder.events.emit(msg[1], msg[2], msg[3], **msg[4])

    def _give_later(self, s: _Shard, rid: int, want: int) -> None:
        self._give(s, rid, self.allocator.next(want))

    def _give(self, s: _Shard, rid: int, got: tuple[int, int] | None) -> None:
        if got is not None:
            with self._lock:
                if s.dead:  # its process died meanwhile: the chunk goes to the others
                    self.allocator.done(got[0], got[1], 0)
                    got = None
                else:
                    s.outstanding[got[0]] = got[1]
        reply = None
        if got is not None:
            base = self.arrivals.base if self.arrivals is not None else 0
            fault = self.inject.active
            reply = (got[0], got[1], base, None if fault is None else fault.to_wire())
        s.send(("chunk", rid, reply))

    def _done(
        self, s: _Shard, start: int, count: int, completed: int, batch: ResultBatch | None, sets: dict[str, Any]
    ) -> None:
        if batch is not None:
            self.recorder.add(batch)
        with self._lock:
            s.outstanding.pop(start, None)
        self.allocator.done(start, count, completed)
        if sets:
            with self._lock:
                s.series.update(sets)
                for name, (_, unit) in sets.items():
                    total = sum(x.series.get(name, (0.0, ""))[0] for x in (*self._shards, *self._dead))
                    self.recorder.set(name, total, unit)

    def _watch_stop(self, s: _Shard) -> None:
        """After an abort, or once a stop's grace is over: the calls in flight are cancelled."""
        if not (self._killing or (self.allocator.stopped and time.monotonic() > self._stop_at)):
            return
        if not s.kill_sent:
            s.kill_sent = time.monotonic()
            with self._lock:
                self.cancelled += int(s.shared[IN_FLIGHT])
            s.send(("kill",))
        elif time.monotonic() - s.kill_sent > KILL_WAIT:
            with contextlib.suppress(Exception):
                s.proc.kill()

    def _crashed(self, k: int) -> bool:
        """The load process is gone: its unfinished chunks are lost, it is named and replaced.
        True when a new process took its place."""
        s = self._shards[k]
        self._drain(s)
        with self._lock:
            s.dead = True
            lost = list(s.outstanding.items())
            s.outstanding.clear()
            self._dead.append(s)
        for start, count in lost:
            self.allocator.done(start, count, count)  # never sent again: the server may have answered them
        calls = sum(c for _, c in lost)
        self.lost += calls
        s.proc.join(1)
        self._end(s)
        if s.kill_sent:  # ended on purpose (abort, the stop's grace over)
            return False
        self.recorder.events.emit(
            "worker_crash",
            f"load process load-{k} (pid {s.proc.pid}) {_how(s.proc.exitcode)}: "
            f"up to {calls} calls in flight with it not recorded",
            "error",
            slot=k,
            exitcode=s.proc.exitcode,
        )
        return self._replace(k, s)

    def _drain(self, s: _Shard) -> None:
        """What the process sent before it died: its finished chunks count."""
        with contextlib.suppress(EOFError, OSError):
            while s.conn.poll(0):
                msg = s.conn.recv()
                if msg[0] in ("done", "event", "stop"):
                    self._handle(s, msg)

    def _replace(self, k: int, old: _Shard) -> bool:
        if self._killing or self.allocator.stopped or self.allocator.finished():
            return False
        try:
            new = self._spawn(k, old.restarts + 1)
            self._shards[k] = new
            self._await_ready(new)
        except UsageError as exc:
            self.recorder.events.emit("worker_error", str(exc), "error", slot=k)
            self.allocator.stop()
            return False
        new.shared[HOLD] = 1 if self._hold else 0
        new.send(("start", self._start_ns))
        said = f"load process load-{k} restarted"
        self.recorder.events.emit("worker_restart", said, "warn", slot=k, pid=new.proc.pid, restarts=new.restarts)
        return True


def _how(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"
