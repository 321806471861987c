"""Process isolation: the target runs in worker processes, one per concurrency slot.

A crash (exception escaping to the interpreter, ``os._exit``, a signal such as
SIGSEGV), a hang past the call timeout or a leak in the target stays in its worker:
the call is recorded (``WorkerCrash`` or ``Timeout``), a hung worker's stacks are
dumped into ``workers/hang-<slot>-<n>.txt`` with faulthandler before it is killed,
and a fresh worker takes the rest of the chunk. Results come back in chunks through
shared memory, so the pipe carries a few messages per chunk, not per call.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing as mp
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from soakwatch._calldata import CallValues
from soakwatch.config.errors import UsageError
from soakwatch.core import platform as plat
from soakwatch.core.recorder import ErrorRecord, ResultBatch
from soakwatch.targets import worker as _worker
from soakwatch.targets._groups import quiet_resource_tracker
from soakwatch.targets._held import ChunkRunner
from soakwatch.targets._process_worker import START_TIMEOUT, reap_worker, shm_dir, spawn_worker
from soakwatch.targets._process_worker import Worker as _Worker
from soakwatch.targets.runner import CHUNK_MAX, chunk_size

__all__ = ["ProcessRunner"]

#: how often a waiting driver checks its worker for a hang or a death
POLL_SECONDS = 0.05
#: time given to faulthandler to write the stacks of a hung worker before SIGKILL
DUMP_GRACE = 0.3


class ProcessRunner(ChunkRunner):
    """Runs each concurrency slot's calls in its own worker process."""

    _workers: list[_Worker]
    _closing = False
    #: a worker has sent per-call values: the target uses soakwatch.phase/record
    _saw_values = False

    def prepare(self) -> None:
        self._ctx = mp.get_context("spawn")
        quiet_resource_tracker()  # multiprocessing's helper: never the holder of the monitor's output
        self._tmp = tempfile.TemporaryDirectory(prefix="soakwatch-shm-", dir=shm_dir())
        run_dir = self.recorder.run_dir
        self._log_dir = (run_dir / "workers") if run_dir else Path(self._tmp.name)
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._cases_path: str | None = None
        if self.cases:
            import json

            p = Path(self._tmp.name) / "cases.jsonl"
            p.write_text("".join(json.dumps(c) + "\n" for c in self.cases), encoding="utf-8")
            self._cases_path = str(p)
        self._killing = False
        self._stop_at = float("inf")
        self._lock = threading.Lock()
        self._workers = [self._spawn(i) for i in range(self.plan.concurrency)]

    def _spawn(self, slot: int, restarts: int = 0) -> _Worker:
        w, self.is_async = spawn_worker(
            self._ctx,
            slot,
            restarts,
            spec=self.spec,
            root=self.root,
            cases_path=self._cases_path,
            shm_dir=self._tmp.name,
            log_dir=self._log_dir,
            timeout=self.plan.timeout,
        )
        return w

    def imported_packages(self) -> dict[str, str] | None:
        """Asked of the first worker once, before any chunk: what the target imported when it loaded."""
        w = self._workers[0]
        try:
            w.conn.send(("packages",))
            if not w.conn.poll(START_TIMEOUT):
                return None
            msg = w.conn.recv()
        except (EOFError, OSError):
            return None
        return dict(msg[1]) if msg[0] == "packages" else None

    def _reap(self, w: _Worker) -> None:
        """End the worker and its group; the processes the target left running are counted and said."""
        left = reap_worker(w, self._log_dir)
        if not left:
            return
        with self._lock:
            self.orphans += len(left)
        self.recorder.events.emit(
            "orphans_killed",
            f"worker {w.slot}: {len(left)} process(es) the target left running killed (pids {left[:10]})",
            "warn",
            slot=w.slot,
            count=len(left),
            pids=left[:100],
        )

    def _slots(self) -> list[Callable[[], None]]:
        return [functools.partial(self._drive, i) for i in range(self.plan.concurrency)]

    @property
    def in_flight(self) -> int:
        """Workers in a call now (from their shared state: a worker waiting for a due time is not)."""
        busy = 0
        for w in getattr(self, "_workers", []):
            with contextlib.suppress(ValueError):  # released while a worker is being replaced
                busy += 1 if w.view[_worker.CURRENT] else 0
        return busy

    def pids(self) -> dict[str, int]:
        if self._closing:  # exiting workers free their memory: samples now would be misleading
            return {}
        return {f"worker-{w.slot}": w.proc.pid for w in getattr(self, "_workers", []) if w.proc.pid}

    # ---------------------------------------------------------------- control
    def _set_hold(self, value: int) -> None:
        for w in getattr(self, "_workers", []):
            with contextlib.suppress(ValueError):  # released while a worker is being replaced
                w.view[_worker.HOLD] = value

    def close(self) -> None:
        self._closing = True
        for w in self._workers:
            with contextlib.suppress(OSError):
                w.conn.send(("exit",))
        for w in self._workers:
            w.proc.join(1)
            self._reap(w)
        self._tmp.cleanup()

    # ---------------------------------------------------------------- driving
    def _drive(self, slot: int) -> None:
        avg = 0.0
        lv = self.levels
        while True:
            # under a concurrency shape one call per chunk: the slot looks at the level before each
            chunk = self.allocator.next(1 if lv is not None else chunk_size(avg, self.plan))
            if chunk is None:
                return
            start, count = chunk
            if lv is not None and not lv.wait(slot, self.held, self.deadline_ns):
                self.allocator.done(start, count, 0)  # paused, stopped or past the end: the index goes back
                if self._past_deadline():
                    return
                continue
            self._workers[slot].view[_worker.HOLD] = 1 if self._hold else 0
            avg = self._run_counted(slot, start, count, avg)

    def _past_deadline(self) -> bool:
        """The stage's end passed: no further chunk starts."""
        if time.perf_counter_ns() < self.deadline_ns:
            return False
        self.allocator.stop()
        return True

    def _collect(
        self, w: _Worker, start: int, n: int, errors: list[ErrorRecord], values: CallValues | None = None
    ) -> None:
        if n <= 0 and not errors:
            return
        lat = np.frombuffer(w.view, dtype=np.int64, count=n, offset=_worker.HEADER * 8).copy()
        sched = None
        missed = 0
        if self.plan.rate:
            off = (_worker.HEADER + CHUNK_MAX) * 8
            sched = np.frombuffer(w.view, dtype=np.int64, count=n, offset=off).copy()
            sent = lat != _worker.MISSED_LAT
            missed = n - int(sent.sum())
            if missed and self.arrivals is not None:
                for k in np.flatnonzero(~sent):
                    self.arrivals.note_missed(start + int(k))
            lat, sched = lat[sent], sched[sent]
        self.recorder.add(ResultBatch(lat, [e for e in errors if e.index < start + n], sched, values, missed))

    def _run_chunk(self, slot: int, start: int, count: int) -> int:
        w = self._workers[slot]
        errors: list[ErrorRecord] = []
        w.view[_worker.DONE] = 0  # a worker that dies before its first call must not show the last chunk's count
        w.view[_worker.CURRENT] = 0
        try:
            fault = self.inject.active  # a chaos latency/errors window travels with the chunk
            w.conn.send(
                (
                    "run",
                    start,
                    count,
                    self.arrivals.base if self.arrivals is not None else self._start_ns,
                    self.interval_ns(),
                    self.deadline_ns,
                    None if fault is None else fault.to_wire(),
                    self.arrivals.grace if self.arrivals is not None else 0,
                )
            )
        except OSError:  # it died between chunks (e.g. chaos killed it while idle)
            return self._crashed(slot, start, count, errors)
        tmo_ns = int(self.plan.timeout * 1e9)
        values: CallValues | None = None
        while True:
            try:
                ready = w.conn.poll(POLL_SECONDS)
            except (EOFError, OSError):
                ready = False
            if ready:
                try:
                    msg = w.conn.recv()
                except (EOFError, OSError):
                    return self._crashed(slot, start, count, errors)
                if msg[0] == "err":
                    _, i, kind, message, is_tmo = msg
                    errors.append(ErrorRecord(kind, message, i, is_tmo))
                    continue
                if msg[0] == "vals":
                    values = msg[1]
                    self._saw_values = True
                    continue
                done = int(msg[1])
                self._collect(w, start, done, errors, values)
                return done
            if not w.proc.is_alive():
                self._drain(w, errors)
                return self._crashed(slot, start, count, errors)
            current = w.view[_worker.CURRENT]
            now = time.perf_counter_ns()
            if current and (self._killing or (self.allocator.stopped and time.monotonic() > self._stop_at)):
                return self._cancel(slot, start, errors)
            if current and now - current > tmo_ns:
                return self._hung(slot, start, count, errors, now - current)

    def _drain(self, w: _Worker, errors: list[ErrorRecord]) -> None:
        try:
            while w.conn.poll(0):
                msg = w.conn.recv()
                if msg[0] == "err":
                    _, i, kind, message, is_tmo = msg
                    errors.append(ErrorRecord(kind, message, i, is_tmo))
        except (EOFError, OSError):
            pass

    def _values_lost(self, done: int) -> None:
        """The values of a chunk travel with its end: a worker that died mid-chunk took them along."""
        cv = self.recorder.callvalues
        if done and (self._saw_values or cv.in_use):  # the first chunk is one call: known by the second
            cv.lost_calls += done

    def _replace(self, slot: int) -> None:
        old = self._workers[slot]
        self._reap(old)
        if self.allocator.stopped and self.allocator.finished():
            return
        try:
            self._workers[slot] = self._spawn(slot, old.restarts + 1)
        except UsageError as exc:
            self.recorder.events.emit("worker_error", str(exc), "error", slot=slot)
            self.allocator.stop()
            return
        self._workers[slot].view[_worker.HOLD] = 1 if self._hold else 0
        self.recorder.events.emit(
            "worker_restart",
            f"worker {slot} restarted",
            "warn",
            slot=slot,
            pid=self._workers[slot].proc.pid,
            restarts=old.restarts + 1,
        )

    def _crashed(self, slot: int, start: int, count: int, errors: list[ErrorRecord]) -> int:
        w = self._workers[slot]
        w.proc.join(1)
        code = w.proc.exitcode
        done = int(w.view[_worker.DONE])
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        self._collect(w, start, done, errors)
        self._values_lost(done)
        in_call = bool(w.view[_worker.CURRENT])  # 0: it died between calls, and no call failed
        if done < count and in_call:
            idx = start + done
            lat_ns = time.perf_counter_ns() - (int(w.view[_worker.CURRENT]) or time.perf_counter_ns())
            self.recorder.add(
                ResultBatch(
                    np.asarray([max(lat_ns, 0)], dtype=np.int64),
                    [ErrorRecord("WorkerCrash", f"worker {how} during call {idx}", idx)],
                    np.asarray([max(lat_ns, 0)], dtype=np.int64) if self.plan.rate else None,
                )
            )
            done += 1
        self.recorder.events.emit(
            "worker_crash",
            f"worker {slot} (pid {w.proc.pid}) {how}" + ("" if in_call else " between calls"),
            "error",
            slot=slot,
            exitcode=code,
            log=str(self._log_dir / f"worker-{slot}.log"),
        )
        self._replace(slot)
        return done

    def _cancel(self, slot: int, start: int, errors: list[ErrorRecord]) -> int:
        """A stop's grace is over and the worker is still in a call: kill it; the call is counted as
        cancelled (not a result, not an error), the calls it finished before are kept."""
        w = self._workers[slot]
        with contextlib.suppress(ProcessLookupError):
            w.proc.kill()
        w.proc.join(2)
        self._drain(w, errors)
        done = int(w.view[_worker.DONE])
        idx = start + done
        self._collect(w, start, done, [e for e in errors if e.index != idx])
        self._values_lost(done)
        with self._lock:
            self.cancelled += 1
        self._reap(w)  # the stage is stopping: no new worker
        return done

    def _hung(self, slot: int, start: int, count: int, errors: list[ErrorRecord], stuck_ns: int) -> int:
        w = self._workers[slot]
        w.hangs += 1
        dump = self._log_dir / f"hang-{slot}.txt"
        try:
            plat.request_stack_dump(w.proc.pid)
            time.sleep(DUMP_GRACE)
            w.proc.kill()
        except ProcessLookupError:
            pass
        w.proc.join(2)
        self._drain(w, errors)
        done = int(w.view[_worker.DONE])
        self._collect(w, start, done, errors)
        self._values_lost(done)
        idx = start + done
        # the worker appends its faulthandler dump to hang-<slot>.txt; each hang gets its own file,
        # named by the call that hung, so the next worker of this slot starts an empty one
        named = self._log_dir / f"hang-{slot}-{idx}.txt"
        with contextlib.suppress(OSError):
            dump.replace(named)
            dump = named
        msg = f"call {idx} exceeded {self.plan.timeout:g}s"
        self.recorder.add(
            ResultBatch(
                np.asarray([stuck_ns], dtype=np.int64),
                [ErrorRecord("Timeout", msg, idx, True)],
                np.asarray([stuck_ns], dtype=np.int64) if self.plan.rate else None,
            )
        )
        self.recorder.events.emit(
            "hang",
            f"worker {slot} (pid {w.proc.pid}): {msg}; stacks in {dump.name}",
            "error",
            slot=slot,
            call=idx,
            stacks=str(dump),
        )
        self._replace(slot)
        return done + 1
