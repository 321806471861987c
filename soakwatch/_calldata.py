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

from contextvars import ContextVar
from time import perf_counter_ns
from types import TracebackType
from typing import Any

__all__ = ["MAX_VALUES_PER_CHUNK", "CallValues", "SlotBuffer", "open_slot", "phase", "record"]

#: phase times or recorded values kept per slot between two hand-overs (a chunk is ~20 ms of
#: calls); beyond it values are counted as dropped, so a target recording in a loop cannot
#: grow the monitor's memory
MAX_VALUES_PER_CHUNK = 200_000

#: phases: (call index, phase name, duration ns); records: (call index, call start ns, record ns, name, value)
PhaseTuple = tuple[int, str, int]
RecordTuple = tuple[int, int, int, str, Any]
#: what a runner hands over: (phases, records, dropped)
CallValues = tuple[list[PhaseTuple], list[RecordTuple], int]

_current: ContextVar[SlotBuffer | None] = ContextVar("soakwatch_slot", default=None)


class SlotBuffer:
    """The values one runner slot's calls reported since the last hand-over."""

    __slots__ = ("dropped", "index", "phases", "records", "start")

    def __init__(self) -> None:
        self.index = -1
        self.start = 0
        self.phases: list[PhaseTuple] = []
        self.records: list[RecordTuple] = []
        self.dropped = 0

    def take(self) -> CallValues | None:
        """What was reported since the last take, or None when nothing was (the usual, free case)."""
        if not (self.phases or self.records or self.dropped):
            return None
        out = (self.phases, self.records, self.dropped)
        self.phases, self.records, self.dropped = [], [], 0
        return out


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
