"""The worker process that calls a Python target under process isolation.

Imports only the standard library and the target, so a worker starts fast and its
memory is the target's. Protocol over a ``multiprocessing`` pipe:

parent → worker  ``("run", start, count, base_ns, interval_ns, deadline_ns, fault, grace_ns)`` ·
                 ``("packages",)`` · ``("exit",)``
                 (``fault``: None, or a chaos window's (latency_s, latency_ratio, error_ratio, names);
                 under a rate call *i* is due at ``base_ns + i * interval_ns``, and one more than
                 ``grace_ns`` late is missed: its latency slot holds -1)
worker → parent  ``("ready", is_async)`` · ``("fatal", message)`` ·
                 ``("err", index, kind, message, timeout)`` (sent at once, so a crash loses none) ·
                 ``("vals", (phases, records, dropped))`` (only when the target used
                 ``soakwatch.phase``/``record`` in the chunk; sent just before ``done``) ·
                 ``("done", completed)`` · ``("packages", {distribution: version})`` (what the
                 target imported when it loaded, for run_config.json)

Per-call state lives in a shared int64 array (an mmap'ed file) that the parent reads
while the worker is busy or after it died: slot 0 = calls completed in the chunk,
slot 1 = start (monotonic ns) of the call in progress or 0, slot 2 = hold flag set by
the parent (no new call starts), then the latencies and the scheduled latencies of
the chunk. A chunk ends after :data:`FLUSH_NS` at the latest (the rest is given back), so
results reach the parent, and the recorder, well within a tick. ``SIGUSR1`` makes
faulthandler dump every thread's stack into the hang file.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import importlib
import inspect
import io
import json
import mmap
import os
import random
import signal
import sys
import time
from multiprocessing.connection import Connection
from typing import IO, Any

from soakwatch._calldata import AnswerSampler, SlotBuffer, open_slot
from soakwatch.config.limits import WORKER_LOG_HEAD, WORKER_LOG_TAIL
from soakwatch.config.safetext import exc_text, safe_str
from soakwatch.core import platform as plat
from soakwatch.targets._imported import imported_distributions
from soakwatch.targets._lifeline import set_lifeline
from soakwatch.targets._worker_log import CappedLog

__all__ = ["HEADER", "error_kind", "error_message", "main", "shm_size"]

HEADER = 4
#: an error kind (an exception's class name) is kept to this many characters
MAX_KIND_NAME = 120
DONE, CURRENT, HOLD = 0, 1, 2
#: a chunk hands its results over at least this often (soakwatch.targets.loops.FLUSH_SECONDS)
FLUSH_NS = 100_000_000
#: longest sleep while waiting for a due time, so the hold flag is seen quickly
MAX_SLEEP_NS = 50_000_000
MISSED_LAT = -1
#: at a clean exit, how long the worker waits for its log pump to write the last output
DRAIN_SECONDS = 0.5


def shm_size(chunk_max: int) -> int:
    return (HEADER + 2 * chunk_max) * 8


def error_kind(exc: BaseException) -> str:
    """``ValueError`` for builtins, ``package.module.Error`` otherwise (capped, text made safe)."""
    t = type(exc)
    try:
        name = t.__qualname__ if t.__module__ in ("builtins", "__main__") else f"{t.__module__}.{t.__qualname__}"
    except Exception:  # a class whose attributes a target has made hostile
        name = "UnnamedException"
    name = safe_str(str(name))
    return name if len(name) <= MAX_KIND_NAME else name[: MAX_KIND_NAME - 1] + "…"


def error_message(exc: BaseException) -> str:
    """The exception's message, never raising (a broken ``__str__`` is named), capped at 300 characters."""
    text = exc_text(exc)
    return text if len(text) <= 300 else text[:299] + "…"


def _load(spec: str, root: str | None) -> tuple[Any, bool]:
    if root and root not in sys.path:
        sys.path.insert(0, root)
    module, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj, inspect.iscoroutinefunction(obj)


def main(
    conn: Connection,
    spec: str,
    root: str | None,
    cases_path: str | None,
    shm_path: str,
    chunk_max: int,
    timeout: float,
    crash_log: str,
    hang_log: str,
    monitor_pid: int = 0,
) -> None:
    """Worker entry point (run in a spawned process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    if monitor_pid:  # its own group, ended with the monitor (soakwatch.targets._lifeline)
        set_lifeline(monitor_pid)
    _logs = _redirect_output(crash_log, hang_log)  # kept open as long as the process
    before = set(sys.modules)
    try:
        fn, is_async = _load(spec, root)
        packages = imported_distributions(before, spec.partition(":")[0])
        cases = _read_cases(cases_path)
    except BaseException as exc:
        conn.send(("fatal", f"{error_kind(exc)}: {exc_text(exc)}"))
        _close_output(_logs[0])
        return
    with open(shm_path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), shm_size(chunk_max))
    view = memoryview(mm).cast("q")
    conn.send(("ready", is_async))
    _serve(conn, view, fn, is_async, cases, packages, timeout, os.path.basename(crash_log))
    _close_output(_logs[0])


def _redirect_output(crash_log: str, hang_log: str) -> tuple[CappedLog, IO[str]]:
    """Send the target's prints, warnings and fatal errors to the worker's log, never to the
    monitor's screen: through a pipe to a :class:`CappedLog` (head and tail kept, the size capped by
    soakwatch.config.limits); faulthandler writes crashes into the log file being written and a
    hang's stacks (on request) to ``hang_log``. Returns the log and the hang file, which must stay
    open as long as the process."""

    def follow(fd: int) -> None:
        faulthandler.enable(file=fd, all_threads=True)

    log = CappedLog(crash_log, WORKER_LOG_HEAD, WORKER_LOG_TAIL, on_switch=follow)
    w = log.start()
    os.dup2(w, 1)
    os.dup2(w, 2)
    os.close(w)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    follow(log.fd())
    hang_fh = open(hang_log, "a")  # noqa: SIM115 - lives as long as the process
    plat.install_stack_dump(hang_fh)
    return log, hang_fh


def _close_output(log: CappedLog) -> None:
    """At a clean exit: what the target printed last reaches the log before the process ends."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    log.drain(DRAIN_SECONDS)  # a process the target left running may still hold the pipe


def _read_cases(cases_path: str | None) -> list[Any]:
    """The cases the parent wrote, one JSON value a line; none without a file."""
    cases: list[Any] = []
    if cases_path:
        with open(cases_path, encoding="utf-8") as fh:
            cases = [json.loads(line) for line in fh if line.strip()]
    return cases


def _serve(
    conn: Connection,
    view: memoryview,
    fn: Any,
    is_async: bool,
    cases: list[Any],
    packages: dict[str, str],
    timeout: float,
    name: str,
) -> None:
    """Answer the parent until it says exit: the target's packages, or a chunk of calls to run."""
    loop = asyncio.new_event_loop() if is_async else None
    seed = os.environ.get("SOAKWATCH_SEED")
    rng = random.Random(f"{seed}:{name}") if seed else random.Random()
    buf = open_slot()
    answers = AnswerSampler.from_env(name)  # None unless [record] asks
    while True:
        msg = conn.recv()
        if msg[0] == "packages":
            conn.send(("packages", packages))
            continue
        if msg[0] != "run":
            break
        _, start, count, start_ns, interval, deadline, fault, grace = msg
        done = _run_chunk(
            conn, view, fn, loop, cases, start, count, start_ns, interval, deadline, timeout, fault, rng, buf, answers,
            grace,
        )  # fmt: skip
        values = buf.take()
        if values is not None:
            conn.send(("vals", values))
        conn.send(("done", done))


#: a call that returned nothing to keep (it raised, or chaos failed it)
_NO_ANSWER = object()

#: kind of an error injected by a chaos window (the same as soakwatch.core.inject.INJECTED_KIND;
#: this module imports only the standard library)
INJECTED_KIND = "ChaosInjected"


def _inject(fault: tuple[float, float, float, str], rng: random.Random) -> bool:
    """Sleep a chaos window's added latency; True when this call fails instead of running."""
    latency_s, latency_ratio, error_ratio, _ = fault
    if latency_s and rng.random() < latency_ratio:
        time.sleep(latency_s)
    return rng.random() < error_ratio


def _run_chunk(
    conn: Connection,
    view: memoryview,
    fn: Any,
    loop: asyncio.AbstractEventLoop | None,
    cases: list[Any],
    start: int,
    count: int,
    start_ns: int,
    interval: int,
    deadline: int,
    timeout: float,
    fault: tuple[float, float, float, str] | None = None,
    rng: random.Random | None = None,
    buf: SlotBuffer | None = None,
    answers: AnswerSampler | None = None,
    grace: int = 0,
) -> int:
    # Kept in one piece for speed (over the 60-line rule on purpose): it is the per-call hot path
    # of a process-isolated target, and a helper call per call would cost more than the work
    # soakwatch does around a fast target.
    # Why not one loop shared with runner.InlineRunner._sync_slot (in-process sync targets) and
    # loops.sync_slot/async_slot (HTTP, command, async Python)? They differ per call in where a
    # call comes from (here: the loaded callable, run on this process's event loop when async),
    # where a result goes (here: the shared-memory window the parent reads, errors sent down the
    # pipe; there: arrays handed to the recorder) and how a hang is seen (here the parent watches
    # CURRENT and kills the process). A shared loop would test each of those per call, and every
    # per-call branch costs the hot path; this module also imports only the standard library. So
    # the three stay apart, and a change to the per-call steps (arrivals, chaos faults, answers,
    # flush) is made in all three.
    nc = len(cases)
    pc = time.perf_counter_ns
    send = conn.send
    lat0 = HEADER
    sch0 = HEADER + (len(view) - HEADER) // 2
    done = 0
    timeout_ns = int(timeout * 1e9)
    view[DONE] = 0
    buf = buf or SlotBuffer()
    limit = min(deadline, pc() + FLUSH_NS)
    for k in range(count):
        if view[HOLD]:
            break
        i = start + k
        if interval:
            due = start_ns + i * interval
            if due >= deadline:
                break
            late = _wait(due, grace, view)
            if late is None:
                break
            if late:
                view[lat0 + k] = MISSED_LAT
                done = k + 1
                view[DONE] = done
                continue
        t0 = pc()
        view[CURRENT] = t0
        buf.index = i
        buf.start = t0
        res: Any = _NO_ANSWER
        try:
            if fault is not None and _inject(fault, rng or random.Random()):
                send(("err", i, INJECTED_KIND, f"injected by chaos {fault[3]}", False))
            elif loop is not None:
                coro = fn(cases[i % nc]) if nc else fn()
                res = loop.run_until_complete(asyncio.wait_for(coro, timeout))
            elif nc:
                res = fn(cases[i % nc])
            else:
                res = fn()
        except TimeoutError:
            send(("err", i, "Timeout", f"call exceeded {timeout:g}s", True))
        except BaseException as exc:
            send(("err", i, error_kind(exc), error_message(exc), False))
        else:
            if pc() - t0 > timeout_ns:
                send(("err", i, "Timeout", f"call exceeded {timeout:g}s", True))
        t1 = pc()
        if answers is not None and res is not _NO_ANSWER and answers.wants(i):
            answers.keep(buf, i, cases[i % nc] if nc else None, res)  # after t1: not in the latency
        view[lat0 + k] = t1 - t0
        if interval:
            view[sch0 + k] = t1 - (start_ns + i * interval)
        done = k + 1
        view[DONE] = done
        view[CURRENT] = 0
        if t1 >= limit:
            break
    return done


def _wait(due: int, grace: int, view: memoryview) -> bool | None:
    """Sleep until ``due``: True when it is already more than ``grace`` past (missed), None when
    the parent set the hold flag meanwhile, False when the call is to be sent now."""
    pc = time.perf_counter_ns
    while True:
        now = pc()
        if now - due > grace:
            return True
        if due <= now:
            return False
        if view[HOLD]:
            return None
        time.sleep(min(due - now, MAX_SLEEP_NS) / 1e9)
