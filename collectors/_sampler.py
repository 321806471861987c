"""The common sampler interface: a background thread that samples on its own interval.

A collector that fails (file gone, endpoint down, permission denied) must never stop
the stage or the other collectors: :class:`Sampler` catches every exception from
:meth:`Sampler.sample`, reports it through a :class:`FailureReporter` (one
``collector_error`` event when a source starts failing, a reminder with the count at
most every :data:`REPEAT_S` seconds, one ``collector_recovered`` event when it works
again) and tries again on the next interval.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod

from soakwatch.core.events import EventLog
from soakwatch.core.plugins import Plugin

__all__ = ["REPEAT_S", "FailureReporter", "Sampler"]

#: seconds between reminder events while a source keeps failing
REPEAT_S = 60.0
#: seconds the stop() of a sampler waits for its thread
JOIN_S = 5.0


class FailureReporter:
    """Turns a stream of failures and successes per source into a few events."""

    def __init__(self, events: EventLog, collector: str) -> None:
        self.events = events
        self.collector = collector
        self._failing: dict[str, tuple[int, float]] = {}  # source -> (count, last event time)
        self._lock = threading.Lock()
        self.failures = 0

    def failed(self, source: str, reason: str, **fields: object) -> None:
        now = time.monotonic()
        with self._lock:
            self.failures += 1
            count, last = self._failing.get(source, (0, 0.0))
            count += 1
            emit = count == 1 or now - last >= REPEAT_S
            self._failing[source] = (count, now if emit else last)
        if emit:
            more = f" (failed {count} times)" if count > 1 else ""
            self.events.emit(
                "collector_error",
                f"{self.collector} {source}: {reason}{more}",
                "warn",
                collector=self.collector,
                source=source,
                reason=reason,
                count=count,
                **fields,
            )

    def ok(self, source: str) -> None:
        with self._lock:
            state = self._failing.pop(source, None)
        if state is not None:
            self.events.emit(
                "collector_recovered",
                f"{self.collector} {source}: working again after {state[0]} failures",
                "info",
                collector=self.collector,
                source=source,
                failures=state[0],
            )

    def is_failing(self, source: str) -> bool:
        with self._lock:
            return source in self._failing


class Sampler(Plugin):
    """A plugin whose :meth:`sample` runs every :attr:`interval` seconds in its own thread."""

    interval: float = 1.0

    def start(self) -> None:
        self._stop = threading.Event()
        self.failures = FailureReporter(self.ctx.events, self.name)
        self._thread = threading.Thread(target=self._loop, name=f"collector-{self.name}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception as exc:
                self.failures.failed("sample", f"{type(exc).__name__}: {exc}")
            next_t += self.next_interval()
            delay = next_t - time.monotonic()
            if delay < 0:  # fell behind (a slow sample): skip, do not burst
                next_t = time.monotonic()
                delay = 0.0
            self._stop.wait(delay)

    def next_interval(self) -> float:
        """Seconds until the next sample (``interval``; a sampler may sample faster early on)."""
        return self.interval

    @abstractmethod
    def sample(self) -> None:
        """Take one sample; publish with ``self.ctx.recorder.set``. May raise: reported, retried."""

    def stop(self) -> None:
        stop = getattr(self, "_stop", None)
        if stop is None:
            return
        stop.set()
        self._thread.join(JOIN_S)
