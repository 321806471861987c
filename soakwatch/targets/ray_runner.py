"""The Ray executor: a stage's slots run as actors across a Ray cluster, judged here.

Each concurrency slot is one :class:`~soakwatch.targets._ray_actor.SlotActor`, placed with
Ray's SPREAD strategy and asking for a fraction of a CPU (the cluster's CPUs over the
concurrency, at most one, or ``ray_cpus_per_slot``). This process (the coordinator) keeps the
allocator, the recorder, the gates and the run directory: a slot's thread sends its actor a
chunk of call indices and records the reply (every latency, every error with its index, the
per-call values) as a :class:`ResultBatch`, as for a process worker, so the histograms are
exact and every view and gate works unchanged. A chunk ends after ``worker.FLUSH_NS``, so a
pause or a gate's abort reaches every actor within a tick; ``kill`` ends the actors at once.

An actor that dies (its process or its node) is a ``WorkerCrash`` naming the node, and a new
actor takes the slot when the cluster has room. What its last chunk did before it died did
not come back: that is said on the verdict line. A target also follows a fixed ``rate``
(the open model): each chunk carries its due times as durations from its sending, so every node
waits on its own clock, and an arrival more than the grace late is missed and counted.
An HTTP target's slots are :class:`~soakwatch.targets._ray_http.HttpSlotActor` actors, which run the
HTTP target's own slot loop and send back each chunk's ``ResultBatch`` whole (:mod:`._ray_http`).
Chaos ``kill_worker`` / ``pause_worker`` reach the actors through Ray (:mod:`._ray_chaos`).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.core.plugins import WorkerControl
from soakwatch.core.recorder import ErrorRecord, ResultBatch
from soakwatch.core.rundir import update_run_config
from soakwatch.core.verdict import Verdict
from soakwatch.targets import worker as _worker
from soakwatch.targets._held import ChunkRunner
from soakwatch.targets._ray_actor import ActorFacts, ChunkResult, SlotActor, host_key
from soakwatch.targets._ray_chaos import ActorRef, RayWorkers
from soakwatch.targets._ray_cluster import cluster_facts, connect, import_ray, labelled_cpus
from soakwatch.targets._runner_base import chunk_size

if TYPE_CHECKING:
    from soakwatch.targets._ray_http import HttpOnRay

__all__ = ["RayRunner"]

#: how often a waiting slot looks at its chunk (and at a stop)
POLL_SECONDS = 0.05
#: time a new actor gets to be placed and to import the target
START_TIMEOUT = 60.0
#: a chunk not back this long after the call timeout (plus its flush time) is a hang
HANG_MARGIN = 5.0
#: how often each actor's memory and CPU are asked for, and how long an answer may take
STATS_EVERY = 1.0
STATS_TIMEOUT = 2.0


class RayRunner(ChunkRunner):
    """Runs each concurrency slot's calls in a Ray actor of its own."""

    address: str | None = None
    cpus_per_slot: float | None = None
    #: the profile's [http] section, for an HTTP target
    http_config: HttpConfig | None = None
    #: place the actors only on nodes with these labels (Ray's label selector); empty: any node
    node_labels: dict[str, str] = {}  # noqa: RUF012  # set per instance by build_runner, never mutated
    _actors: list[ActorRef]
    _closing = False
    #: calls an actor may have made in a chunk that never came back (it died mid-chunk)
    unreported = 0

    def prepare(self) -> None:
        if self.spec.kind not in ("python", "http"):
            raise UsageError(
                "executor 'ray' runs Python-callable (module:function) and HTTP targets",
                where="target",
                value=self.spec.spec,
            )
        if self.plan.shape or self.plan.levels:
            raise UsageError("executor 'ray' runs the closed model or a fixed rate, not a [[shape]]", where="shape")
        self._http: HttpOnRay | None = None
        self._timeout = self.plan.timeout
        if self.spec.kind == "http":
            from soakwatch.targets._ray_http import HttpOnRay, HttpSlotActor

            self._http = HttpOnRay(self, self.http_config or HttpConfig())
            self._timeout = max(self._timeout, self._http.timeout)
        self._ray = ray = import_ray()
        where = connect(ray, self.address)
        self._facts = cluster_facts(ray, where)
        cpus = float(self._facts["resources"].get("CPU", 1.0))
        if self.node_labels:  # only the labelled nodes take slots
            cpus = labelled_cpus(self._facts, self.node_labels) or 1.0
        self._cpus = self.cpus_per_slot or min(1.0, cpus / self.plan.concurrency)
        self._cls = ray.remote(HttpSlotActor if self._http else SlotActor)
        self._here = host_key()
        self._lock = threading.Lock()
        self._stop_at = float("inf")
        self._killing = False
        self._closing = False
        self._packages: dict[str, str] | None = None
        self._sampled = threading.Event()
        #: per node, its actors that died or hung (each replaced when the stage goes on)
        self._crashes: dict[str, int] = {}
        # every actor is asked for first, then each waited for: they start (import the target) in parallel
        made = [self._create(i) for i in range(self.plan.concurrency)]
        try:
            self._actors = [self._ready(i, handle, ref) for i, (handle, ref) in enumerate(made)]
        except UsageError:
            for handle, _ in made:
                self._ray.kill(handle)
            raise
        nodes = sorted({a.where for a in self._actors})
        self._facts["slots"] = {
            "count": len(self._actors), "cpus_per_slot": self._cpus, "nodes": nodes, "labels": self.node_labels,
        }  # fmt: skip
        if self.recorder.run_dir is not None:
            update_run_config(self.recorder.run_dir, cluster=self._facts)

    def _spawn(self, slot: int, restarts: int = 0) -> ActorRef:
        return self._ready(slot, *self._create(slot), restarts)

    def _create(self, slot: int) -> tuple[Any, Any]:
        """Ask Ray for slot ``slot``'s actor: its handle and the reference of its ``ready`` answer."""
        import os

        env = {k: v for k, v in os.environ.items() if k.startswith("SOAKWATCH_")}
        args: tuple[Any, ...] = (
            self.spec.spec, str(self.root) if self.root else None, self.cases or [], self.plan.timeout, env,
            f"slot-{slot}",
        )  # fmt: skip
        if self._http is not None:
            args = self._http.actor_args(*args)
        placement: dict[str, Any] = {"label_selector": self.node_labels} if self.node_labels else {}
        handle = self._cls.options(
            num_cpus=self._cpus, scheduling_strategy="SPREAD", max_concurrency=4, max_restarts=0, **placement
        ).remote(*args)
        return handle, handle.ready.remote()

    def _ready(self, slot: int, handle: Any, ref: Any, restarts: int = 0) -> ActorRef:
        """Wait for the actor to be placed and to load the target; exit 2 when it is not or does not."""
        try:
            facts: ActorFacts = self._ray.get(ref, timeout=START_TIMEOUT)
        except self._ray.exceptions.GetTimeoutError:
            self._ray.kill(handle)
            cpus = self._facts["resources"].get("CPU", 0)
            raise UsageError(
                f"the actor of slot {slot} was not placed or not ready within {START_TIMEOUT:g}s: the cluster "
                f"has {cpus:g} CPUs and each slot asks for {self._cpus:g} (lower ray_cpus_per_slot or the concurrency)",
                where="executor",
                value="ray",
            ) from None
        except Exception as exc:
            self._ray.kill(handle)
            cause = getattr(exc, "cause", None) or exc
            raise UsageError(
                f"target {self.spec.spec!r} does not load on the Ray cluster: {type(cause).__name__}: {cause}",
                where="--target",
            ) from None
        is_async, ip, node_id, pid, key, packages = facts
        self.is_async = is_async
        if self._packages is None:
            self._packages = packages
        return ActorRef(handle, slot, ip, node_id, pid, key == self._here, restarts)

    def imported_packages(self) -> dict[str, str] | None:
        return self._packages

    def worker_control(self) -> WorkerControl:
        """Chaos kills and pauses actors through Ray, on any node (:mod:`._ray_chaos`)."""
        return RayWorkers(self)

    def pids(self) -> dict[str, int]:
        """Actors whose process this machine can see (same kernel and PID namespace): the others'
        memory and CPU are measured on their node (:meth:`node_stats`)."""
        if self._closing:
            return {}
        return {f"worker-{a.slot}": a.pid for a in getattr(self, "_actors", []) if a.local}

    def run(self) -> None:
        sampler = threading.Thread(target=self._sample_nodes, name="ray-nodes", daemon=True)
        sampler.start()
        try:
            super().run()
        finally:
            self._sampled.set()
            sampler.join(STATS_TIMEOUT + 1)

    def _sample_nodes(self) -> None:
        """Every second: per node, the actors placed there, their memory and their CPU (% of one
        core), as the series ``ray_actors[node]``, ``ray_rss_mb[node]`` and ``ray_cpu_pct[node]``;
        a node whose actors all left (died, replaced elsewhere) drops to 0 actors."""
        last: dict[str, tuple[float, float]] = {}
        while True:
            stats = self.node_stats()
            for node, (n, rss, cpu) in stats.items():
                now = time.monotonic()
                self.recorder.set(f"ray_actors[{node}]", n)
                self.recorder.set(f"ray_rss_mb[{node}]", rss, "MB")
                prev = last.get(node)
                if prev is not None and now > prev[0] and cpu >= prev[1]:
                    self.recorder.set(f"ray_cpu_pct[{node}]", 100 * (cpu - prev[1]) / (now - prev[0]), "%")
                last[node] = (now, cpu)
            for node in [n for n in last if n not in stats]:
                del last[node]
                self.recorder.set(f"ray_actors[{node}]", 0)
                self.recorder.set(f"ray_rss_mb[{node}]", 0.0, "MB")
            if self._sampled.wait(STATS_EVERY):
                return

    def node_stats(self) -> dict[str, tuple[int, float, float]]:
        """Per node: the actors placed there, and their resident memory (MB) and CPU time (s) as
        those that answered within :data:`STATS_TIMEOUT` measured them on the node."""
        actors = list(getattr(self, "_actors", []))
        refs = [(a.short, a.handle.stats.remote()) for a in actors]
        out: dict[str, tuple[int, float, float]] = {}
        for a in actors:
            n, r, c = out.get(a.short, (0, 0.0, 0.0))
            out[a.short] = (n + 1, r, c)
        for where, ref in refs:
            try:
                rss, cpu = self._ray.get(ref, timeout=STATS_TIMEOUT)
            except Exception:
                continue
            n, r, c = out[where]
            out[where] = (n, r + rss, c + cpu)
        return out

    def verdict(self) -> Verdict | None:
        if not self.unreported:
            return None
        return Verdict(caveats=(f"up to {self.unreported} calls made by dead Ray actors not recorded",))

    # ---------------------------------------------------------------- control
    def _set_hold(self, value: int) -> None:
        for a in list(getattr(self, "_actors", [])):
            a.handle.hold.remote(value)

    def close(self) -> None:
        self._closing = True
        self._sampled.set()
        for a in getattr(self, "_actors", []):
            self._ray.kill(a.handle)

    # ---------------------------------------------------------------- driving
    def _slots(self) -> list[Callable[[], None]]:
        return [functools.partial(self._drive, i) for i in range(self.plan.concurrency)]

    def _drive(self, slot: int) -> None:
        avg = 0.0
        while True:
            self._await_go(slot)
            chunk = self.allocator.next(chunk_size(avg, self.plan))
            if chunk is None:
                return
            avg = self._run_counted(slot, *chunk, avg)

    def _await_go(self, slot: int) -> None:
        """A slot that chaos paused waits here, nothing allocated, until its window ends or the stage stops."""
        while not self._actors[slot].go.wait(POLL_SECONDS):
            if self.allocator.stopped or self._killing:
                return

    def _run_chunk(self, slot: int, start: int, count: int) -> int:
        a = self._actors[slot]
        if self._hold:
            a.handle.hold.remote(1)
        fault = None if self.inject.active is None else self.inject.active.to_wire()
        now = time.perf_counter_ns()
        remaining = max(0, self.deadline_ns - now)
        arr, wait_s = self.arrivals, 0.0
        if arr is None:
            ref = a.handle.run.remote(start, count, remaining, fault)
        else:  # the due times travel as durations from now: each node waits on its own clock
            ref = a.handle.run.remote(start, count, remaining, fault, arr.base - now, arr.interval, arr.grace)
            wait_s = max(0.0, (arr.due(start + count - 1) - now) / 1e9)
        hang_at = time.monotonic() + wait_s + self._timeout + HANG_MARGIN
        while True:
            ready, _ = self._ray.wait([ref], timeout=POLL_SECONDS)
            if ready:
                try:
                    result: Any = self._ray.get(ref)  # ChunkResult, or HttpChunk of an HTTP actor
                except self._ray.exceptions.RayActorError as exc:
                    return self._crashed(a, start, count, exc)
                return self._record(start, result) if self._http is None else self._http.record(slot, result)
            mono = time.monotonic()
            if self._killing or mono > hang_at or (self.allocator.stopped and mono > self._stop_at):
                return self._hung(a, start, count, abandoned=mono <= hang_at)

    def _record(self, start: int, result: ChunkResult, extra: list[ErrorRecord] | None = None) -> int:
        done, lat_b, errs, values, sched_b = result
        lat = np.frombuffer(lat_b, dtype=np.int64).copy()
        sched = None if sched_b is None else np.frombuffer(sched_b, dtype=np.int64).copy()
        missed = 0
        if self.arrivals is not None:  # an arrival more than the grace late was not sent: missed
            sent = lat != _worker.MISSED_LAT
            missed = len(lat) - int(sent.sum())
            for k in np.flatnonzero(~sent):
                self.arrivals.note_missed(start + int(k))
            lat, sched = lat[sent], None if sched is None else sched[sent]
        errors = [ErrorRecord(kind, msg, i, tmo) for i, kind, msg, tmo in errs] + (extra or [])
        if len(lat) or errors or missed:
            self.recorder.add(ResultBatch(lat, errors, sched, values, missed))
        return done

    def _crashed(self, a: ActorRef, start: int, count: int, exc: BaseException) -> int:
        """The actor died with a chunk in hand: one WorkerCrash for it, the rest of the chunk given back."""
        with self._lock:
            self.unreported += count  # it may have made all of them before it died
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"Ray actor of slot {a.slot} on {a.where} died during calls {start}..{start + count - 1}"
        self.recorder.add(ResultBatch(np.zeros(1, dtype=np.int64), [ErrorRecord("WorkerCrash", msg, start)]))
        self.recorder.events.emit("worker_crash", f"{msg}: {first[:200]}", "error", slot=a.slot, node=a.node)
        self._replace(a)
        return 1

    def _hung(self, a: ActorRef, start: int, count: int, abandoned: bool) -> int:
        """A chunk past its time: what it did so far is kept, the call in progress is a Timeout.
        An HTTP actor's chunk keeps its results in its slot loop until it ends: the calls it made
        before the one in progress (up to ``count - 1``) are lost with the actor, and said so."""
        try:
            got: tuple[int, int, bytes, list[tuple[int, str, str, bool]]]
            got = self._ray.get(a.handle.progress.remote(), timeout=2.0)
        except Exception:
            self._ray.kill(a.handle)
            return self._crashed(a, start, 1, RuntimeError("no answer while hung"))
        self._ray.kill(a.handle)
        if self._http is not None and count > 1:
            with self._lock:
                self.unreported += count - 1
        done, age, lat, errs = int(got[0]), int(got[1]), got[2], got[3]
        idx = start + done
        if abandoned:  # cut by the stop: counted as cancelled, not a result, not an error
            self._record(start, (done, lat, [e for e in errs if e[0] < idx], None, None), [])
            with self._lock:
                self.cancelled += 1
            return done
        msg = f"call {idx} exceeded {self._timeout:g}s"
        lat_all = lat + np.int64(age).tobytes()
        self._record(start, (done + 1, lat_all, errs, None, None), [ErrorRecord("Timeout", msg, idx, True)])
        self.recorder.events.emit(
            "hang", f"slot {a.slot} on {a.where}: {msg}", "error", slot=a.slot, call=idx, node=a.node
        )
        self._replace(a)
        return done + 1

    def _replace(self, old: ActorRef) -> None:
        with self._lock:
            self._crashes[old.short] = n = self._crashes.get(old.short, 0) + 1
        self.recorder.set(f"ray_crashes[{old.short}]", n)
        if self.allocator.stopped or self._closing:
            return
        try:
            new = self._spawn(old.slot, old.restarts + 1)
        except UsageError as exc:  # no room on the cluster, or the target no longer loads
            self.recorder.events.emit("worker_error", str(exc), "error", slot=old.slot)
            self.allocator.stop()
            return
        if self._http is not None:
            self._http.replaced(old.slot)
        self._actors[old.slot] = new
        if self._hold:
            new.handle.hold.remote(1)
        self.recorder.events.emit(
            "worker_restart",
            f"worker {old.slot} restarted on {new.where}",
            "warn",
            slot=old.slot,
            pid=new.pid,
            restarts=new.restarts,
            node=new.node,
        )
