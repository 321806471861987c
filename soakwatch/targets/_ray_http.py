"""HTTP targets on the Ray executor: the HTTP target's own slot loop, one slot per actor.

An :class:`HttpSlotActor` builds the HTTP target (:class:`~soakwatch.targets.http.HttpRunner`)
from the stage's ``[http]`` section on its node and keeps one client across chunks. For each
chunk the coordinator sends, it runs the target's slot loop
(:meth:`~soakwatch.targets.runner.Runner.async_chunks`, :func:`soakwatch.targets.loops.async_slot`)
over exactly that chunk, with stand-ins for the stage's allocator (the chunk, and the count of
calls done) and recorder (the chunk's :class:`~soakwatch.core.recorder.ResultBatch` and the
cumulative series the target sets). The reply carries the batch whole (every latency, every
error with its kind, index and request id, the per-call values), so the coordinator records it
as the HTTP runner would have; :class:`HttpOnRay` sums the cumulative series (tokens,
``requests[NAME]``, ``request_errors[NAME]``) over the actors, a replaced actor's last totals
kept. Every request carries the coordinator's ``X-Request-ID`` prefix.

Files named in ``[http]`` (bodies, request lists) are read on the node, from ``--root`` or the
actor's working directory; ``${NAME}`` headers travel from the coordinator's environment.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

from soakwatch._calldata import AnswerSampler
from soakwatch.config.envref import env_names
from soakwatch.config.http import HttpConfig
from soakwatch.core.inject import Fault, WireFault
from soakwatch.core.recorder import Recorder, ResultBatch
from soakwatch.targets import worker as _worker
from soakwatch.targets._ray_actor import ActorBase
from soakwatch.targets.http import HttpRunner
from soakwatch.targets.http_clients import make_clients
from soakwatch.targets.runner import Plan
from soakwatch.targets.spec import TargetSpec

__all__ = ["HttpChunk", "HttpOnRay", "HttpSlotActor"]

#: (calls done, their results or None, the cumulative series the target set: name → (value, unit))
HttpChunk = tuple[int, ResultBatch | None, dict[str, tuple[float, str]]]


class _Stand:
    """The stage's allocator and recorder as one chunk in an actor sees them."""

    run_dir = None

    def __init__(self) -> None:
        self.callvalues = SimpleNamespace(request_id_prefix="")
        self.events = SimpleNamespace(emit=lambda *a, **k: None)  # the coordinator told the stage
        self.chunk: tuple[int, int] | None = None
        self.stopped = False
        self.completed = 0
        self.batch: ResultBatch | None = None
        self.sets: dict[str, tuple[float, str]] = {}

    # the recorder's side
    def declare(self, name: str, unit: str = "") -> None:
        """Declared by the coordinator's own HttpRunner.prepare."""

    def set(self, name: str, value: float, unit: str = "") -> None:
        self.sets[name] = (float(value), unit)

    def add(self, batch: ResultBatch) -> None:
        self.batch = batch

    # the allocator's side: this one chunk, then no more
    def try_next(self, want: int) -> tuple[int, int] | None:
        chunk, self.chunk = self.chunk, None
        return chunk

    def next(self, want: int) -> tuple[int, int] | None:
        return self.try_next(want)

    def done(self, start: int, count: int, completed: int) -> None:
        self.completed = completed

    def stop(self) -> None:
        self.stopped = True


class _ChunkRunner(HttpRunner):
    """The HTTP target, a chunk at a time: the actor's hold word and random stream, the chunk's deadline."""

    hold_word: memoryview
    chunk_deadline = 2**62
    rng: random.Random

    def held(self) -> bool:
        return bool(self.hold_word[_worker.HOLD])

    @property
    def deadline_ns(self) -> int:
        return self.chunk_deadline

    def slot_rng(self) -> random.Random:
        return self.rng


class HttpSlotActor(ActorBase):
    """Builds the HTTP target and its client once; runs chunks of requests on request."""

    def __init__(
        self,
        url: str,
        root: str | None,
        cases: list[Any],
        timeout: float,
        env: dict[str, str],
        name: str,
        config: HttpConfig,
        tag: str,
        seed: int | None,
        rate: float | None = None,
        grace: float = 0.5,
    ) -> None:
        os.environ.update(env)  # the seed, [record] sampling and the ${NAME} headers of the stage
        super().__init__(_worker.HEADER)
        self._is_async, self._packages = True, {}
        self._stand = _Stand()
        plan = Plan(calls=None, duration=None, timeout=timeout, seed=seed, rate=rate, grace=grace)
        spec = TargetSpec("http", url)
        r = _ChunkRunner(plan, self._stand, spec, Path(root) if root else None, cases or None, None, config=config)
        r.hold_word = self._view
        r.rng = random.Random(f"{seed}:{name}") if seed is not None else random.Random()
        r.prepare()
        r.tag = tag  # the coordinator's: one request id prefix for the stage
        r.allocator = self._stand  # type: ignore[assignment]
        self._runner = r
        self._loop = asyncio.new_event_loop()
        engine = getattr(r, "engine", None) or config.engine
        self._client = self._loop.run_until_complete(_client(engine, r.timeout, config, url))
        self._answers = AnswerSampler.from_env(name)
        self._started = 0

    def run(
        self,
        start: int,
        count: int,
        remaining_ns: int,
        fault: WireFault | None,
        base_in_ns: int = 0,
        interval: int = 0,
        grace: int = 0,
    ) -> HttpChunk:
        """Requests ``start`` .. ``start + count - 1`` (fewer when held, past the deadline or the flush time).

        Under a rate, request ``i`` is due ``base_in_ns + i * interval`` ns after the coordinator
        sent the chunk (the actor's schedule has the stage's interval and grace): the due times are
        on this node's clock; one more than the grace late is missed, counted in the batch."""
        r, st, client, answers = self._runner, self._stand, self._client, self._answers
        st.chunk, st.completed, st.batch, st.sets = (start, count), 0, None, {}
        now = time.perf_counter_ns()
        r.chunk_deadline = now + remaining_ns  # this node's clock
        if r.arrivals is not None:
            r.arrivals.origin, r.arrivals.shift = now + base_in_ns, 0
        r.inject.active = Fault.from_wire(fault)
        self._started = time.perf_counter_ns()
        try:
            self._loop.run_until_complete(r.async_chunks(lambda i: r._call(client, i, answers)))
        finally:
            self._started = 0
        return st.completed, st.batch, st.sets

    def progress(self) -> tuple[int, int, bytes, list[tuple[int, str, str, bool]]]:
        """A chunk in progress: what it did so far stays in the slot loop, so only how long it has run."""
        started = self._started
        return 0, (time.perf_counter_ns() - started if started else 0), b"", []


async def _client(engine: str, timeout: float, config: HttpConfig, url: str) -> Any:
    """The actor's one client, made on its loop (aiohttp's session belongs to the loop it is made on)."""
    return make_clients(engine, 1, timeout, http2=config.http2, verify=config.verify_tls, url=url)[0]


class _Coordinator(Protocol):
    plan: Plan
    recorder: Recorder
    spec: TargetSpec
    root: Path | None
    cases: list[Any] | None


class HttpOnRay:
    """The coordinator's side of an HTTP stage on Ray: the checks, series and event of the HTTP
    target (its own ``prepare``), the actors' arguments, and their chunks recorded."""

    def __init__(self, runner: _Coordinator, config: HttpConfig) -> None:
        local = HttpRunner(runner.plan, runner.recorder, runner.spec, runner.root, runner.cases, None, config=config)
        local.prepare()  # bad [http] input is exit 2 here, before any actor; declares the series, tells the client
        self.tag = local.tag
        self.timeout = local.timeout
        self.config = config
        self._recorder = runner.recorder
        self._seed = runner.plan.seed
        self._rate, self._grace = runner.plan.rate, runner.plan.grace
        self._lock = threading.Lock()
        #: per slot, the cumulative series its actor last set; a replaced actor's, added up
        self._sets: dict[int, dict[str, tuple[float, str]]] = {}
        self._base: dict[str, float] = {}

    def actor_args(
        self, url: str, root: str | None, cases: list[Any], timeout: float, env: dict[str, str], name: str
    ) -> tuple[Any, ...]:
        named = {n for value in self.config.headers.values() for n in env_names(value)}
        env = {**env, **{n: os.environ[n] for n in named if n in os.environ}}
        return url, root, cases, timeout, env, name, self.config, self.tag, self._seed, self._rate, self._grace

    def record(self, slot: int, result: HttpChunk) -> int:
        done, batch, sets = result
        if batch is not None:
            self._recorder.add(batch)
        if sets:
            with self._lock:
                self._sets.setdefault(slot, {}).update(sets)
                for name, (_, unit) in sets.items():
                    now = sum(s[name][0] for s in self._sets.values() if name in s)
                    self._recorder.set(name, self._base.get(name, 0.0) + now, unit)
        return done

    def replaced(self, slot: int) -> None:
        """The slot's actor died: its last totals stay in the sums."""
        with self._lock:
            for name, (value, _) in self._sets.pop(slot, {}).items():
                self._base[name] = self._base.get(name, 0.0) + value
