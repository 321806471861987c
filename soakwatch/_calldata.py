"""Per-call values a Python target reports back: ``with phase("offer"): ...`` and ``record("load_seq", 17)``.

Standard library only: worker processes import it (through ``soakwatch``) beside the
target, and a target imports it on its hot path.

Each runner slot (a thread, an asyncio task, a worker process) owns one
:class:`SlotBuffer`, made current with :func:`open_slot` (a context variable, so
threads and tasks each see their own). Before every call the runner stores the call's
index and start time in it (two attribute writes); :func:`phase` and :func:`record`
append to it; after a chunk the runner takes what was appended (:meth:`SlotBuffer.take`)
and hands it over with the chunk's latencies. Outside a soakwatch call (no current
buffer) both are no-ops, so a target keeps working when imported by anything else.
"""

from __future__ import annotations

import json
import os
import random
from contextvars import ContextVar
from time import perf_counter_ns
from types import TracebackType
from typing import Any

__all__ = [
    "MAX_VALUES_PER_CHUNK",
    "AnswerSampler",
    "CallValues",
    "SlotBuffer",
    "current_slot",
    "keep_answer",
    "open_slot",
    "phase",
    "record",
]

#: phase times or recorded values kept per slot between two hand-overs (a chunk is ~20 ms of
#: calls); beyond it values are counted as dropped, so a target recording in a loop cannot
#: grow the monitor's memory
MAX_VALUES_PER_CHUNK = 200_000

#: phases: (call index, phase name, duration ns); records: (call index, call start ns, record ns, name, value);
#: answers: (call index, JSON text of {"case": ..., "answer": ...})
PhaseTuple = tuple[int, str, int]
RecordTuple = tuple[int, int, int, str, Any]
AnswerTuple = tuple[int, str]
#: what a runner hands over: (phases, records, dropped, answers)
CallValues = tuple[list[PhaseTuple], list[RecordTuple], int, list[AnswerTuple]]

#: environment of a worker that samples answers ([record] every / sample / max_bytes)
ENV_EVERY, ENV_SAMPLE, ENV_MAX_BYTES = "SOAKWATCH_ANSWER_EVERY", "SOAKWATCH_ANSWER_SAMPLE", "SOAKWATCH_ANSWER_MAX_BYTES"

_current: ContextVar[SlotBuffer | None] = ContextVar("soakwatch_slot", default=None)


class SlotBuffer:
    """The values one runner slot's calls reported since the last hand-over."""

    __slots__ = ("answers", "dropped", "index", "phases", "records", "start")

    def __init__(self) -> None:
        self.index = -1
        self.start = 0
        self.phases: list[PhaseTuple] = []
        self.records: list[RecordTuple] = []
        self.answers: list[AnswerTuple] = []
        self.dropped = 0

    def take(self) -> CallValues | None:
        """What was reported since the last take, or None when nothing was (the usual, free case)."""
        if not (self.phases or self.records or self.dropped or self.answers):
            return None
        out = (self.phases, self.records, self.dropped, self.answers)
        self.phases, self.records, self.dropped, self.answers = [], [], 0, []
        return out


class AnswerSampler:
    """Which calls keep their case and returned value (``[record] every = N`` / ``sample = p``)."""

    __slots__ = ("every", "max_bytes", "rng", "sample")

    def __init__(self, every: int | None, sample: float | None, max_bytes: int, seed: str | None) -> None:
        self.every = every
        self.sample = sample
        self.max_bytes = max_bytes
        self.rng = random.Random(seed) if seed is not None else random.Random()

    @classmethod
    def from_env(cls, slot: str) -> AnswerSampler | None:
        """The sampler a worker process was asked for in its environment, or None (the default)."""
        every, sample = os.environ.get(ENV_EVERY), os.environ.get(ENV_SAMPLE)
        if not every and not sample:
            return None
        seed = os.environ.get("SOAKWATCH_SEED")
        return cls(
            int(every) if every else None,
            float(sample) if sample else None,
            int(os.environ.get(ENV_MAX_BYTES) or 4096),
            f"{seed}:answers:{slot}" if seed else None,
        )

    def wants(self, index: int) -> bool:
        if self.every and index % self.every == 0:
            return True
        return bool(self.sample) and self.rng.random() < (self.sample or 0.0)

    def keep(self, buf: SlotBuffer, index: int, case: Any, value: Any) -> None:
        """Append call ``index``'s case and answer as one JSON line (an answer over max_bytes is cut)."""
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = json.dumps({"repr": repr(value)[: self.max_bytes], "json": False})
        if len(text) > self.max_bytes:
            text = json.dumps({"truncated": len(text), "head": text[: self.max_bytes]})
        try:
            case_text = json.dumps(case)
        except (TypeError, ValueError):
            case_text = json.dumps(repr(case))
        buf.answers.append((index, f'{{"call": {index}, "case": {case_text}, "answer": {text}}}'))


def keep_answer(sampler: AnswerSampler, index: int, case: Any, value: Any) -> None:
    """Keep call ``index``'s case and answer in the current slot's buffer (async and HTTP slots)."""
    buf = _current.get()
    if buf is not None:
        sampler.keep(buf, index, case, value)


def current_slot() -> SlotBuffer | None:
    """This thread's or task's buffer (None outside a soakwatch call)."""
    return _current.get()


def open_slot() -> SlotBuffer:
    """Make a fresh buffer current for this thread or task, and return it."""
    buf = SlotBuffer()
    _current.set(buf)
    return buf


class phase:  # lower case: used like a function, ``with phase("offer"):``
    """Time a block of a call as the named phase; each phase becomes a latency histogram."""

    __slots__ = ("_buf", "_t0", "name")

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> phase:
        self._buf = _current.get()
        self._t0 = perf_counter_ns()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        buf = self._buf
        if buf is not None:
            if len(buf.phases) < MAX_VALUES_PER_CHUNK:
                buf.phases.append((buf.index, self.name, perf_counter_ns() - self._t0))
            else:
                buf.dropped += 1


def record(name: str, value: Any) -> None:
    """Report a value of this call (a number, bool or string); it becomes the series ``record[name]``
    and can be checked per call (``strictly_increasing``, ``never_decreasing``, ``unique``)."""
    buf = _current.get()
    if buf is None:
        return
    if len(buf.records) < MAX_VALUES_PER_CHUNK:
        buf.records.append((buf.index, buf.start, perf_counter_ns(), name, value))
    else:
        buf.dropped += 1
