"""The common sampler interface: a background thread that samples on its own interval.

A collector that fails (file gone, endpoint down, permission denied) must never stop
the stage or the other collectors: :class:`Sampler` catches every exception from
:meth:`Sampler.sample`, reports it through a :class:`FailureReporter` (one
``collector_error`` event when a source starts failing, a reminder with the count at
most every :data:`REPEAT_S` seconds, one ``collector_recovered`` event when it works
again) and tries again on the next interval.

Nor may it let a stage pass unseen: each source's health (ok, or failing since t with
the last error) is live state in every snapshot (``Snapshot.collectors``), a
``collector_health`` event at the end, and a caveat on the verdict line when a source
never produced a sample or is still failing at the end.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

from soakwatch.core.events import EventLog
from soakwatch.core.plugins import Plugin, Verdict
from soakwatch.core.snapshot import CollectorView

__all__ = ["REPEAT_S", "FailureReporter", "Sampler", "SourceHealth"]

#: seconds between reminder events while a source keeps failing
REPEAT_S = 60.0
#: seconds the stop() of a sampler waits for its thread
JOIN_S = 5.0


@dataclass
class SourceHealth:
    """One source's live health: ok, or failing since ``since`` with the last error."""

    source: str
    ok: int = 0
    failures: int = 0
    #: stage seconds of the first failure of the current failing streak (None while ok)
    since: float | None = None
    last_error: str = ""
    #: when the last reminder event was emitted (monotonic)
    told: float = 0.0
    streak: int = 0


class FailureReporter:
    """Turns a stream of failures and successes per source into live health and a few events.

    Each source is ``ok`` or ``failing since t`` (with its last error); a ``collector_error``
    event marks the change to failing (reminders with the count every :data:`REPEAT_S`
    seconds), a ``collector_recovered`` event the change back.
    """

    def __init__(self, events: EventLog, collector: str) -> None:
        self.events = events
        self.collector = collector
        self.sources: dict[str, SourceHealth] = {}
        self._lock = threading.Lock()
        self.failures = 0

    def _health(self, source: str) -> SourceHealth:
        h = self.sources.get(source)
        if h is None:
            h = self.sources[source] = SourceHealth(source)
        return h

    def failed(self, source: str, reason: str, **fields: object) -> None:
        now = time.monotonic()
        with self._lock:
            self.failures += 1
            h = self._health(source)
            h.failures += 1
            h.streak += 1
            h.last_error = reason
            if h.since is None:
                h.since = self.events.elapsed()
            count = h.streak
            emit = count == 1 or now - h.told >= REPEAT_S
            if emit:
                h.told = now
            since = h.since
        if emit:
            more = f" (failed {count} times since {since:.1f}s)" if count > 1 else ""
            self.events.emit(
                "collector_error",
                f"{self.collector} {source}: {reason}{more}",
                "warn",
                collector=self.collector,
                source=source,
                reason=reason,
                count=count,
                since=round(since, 3),
                **fields,
            )

    def ok(self, source: str) -> None:
        with self._lock:
            h = self._health(source)
            h.ok += 1
            was, streak = h.since, h.streak
            h.since, h.streak = None, 0
        if was is not None:
            self.events.emit(
                "collector_recovered",
                f"{self.collector} {source}: working again after {streak} failures since {was:.1f}s",
                "info",
                collector=self.collector,
                source=source,
                failures=streak,
                since=round(was, 3),
            )

    def is_failing(self, source: str) -> bool:
        with self._lock:
            h = self.sources.get(source)
            return h is not None and h.since is not None

    def views(self) -> list[CollectorView]:
        """Every source's health now, for the snapshot."""
        with self._lock:
            return [
                CollectorView(
                    collector=self.collector,
                    source=h.source,
                    status="failing" if h.since is not None else "ok",
                    since=h.since,
                    last_error=h.last_error,
                    failures=h.failures,
                    samples=h.ok,
                )
                for h in self.sources.values()
            ]

    def caveats(self) -> list[str]:
        """What the verdict line says: sources that never produced a sample, or are failing at the end."""
        out = []
        with self._lock:
            for h in self.sources.values():
                if h.ok == 0 and h.failures:
                    out.append(f"{self.collector} {h.source}: no sample in {h.failures} tries ({h.last_error})")
                elif h.since is not None:
                    out.append(
                        f"{self.collector} {h.source}: failing since {h.since:.1f}s, {h.streak} times ({h.last_error})"
                    )
        return out

    def final_event(self) -> None:
        """One ``collector_health`` event with every source's state, for the summary."""
        views = self.views()
        if not views:
            return
        failing = [v for v in views if v.status == "failing" or not v.samples]
        self.events.emit(
            "collector_health",
            f"{self.collector}: "
            + ("; ".join(f"{v.source} {v.status} ({v.samples} ok, {v.failures} failed)" for v in views)),
            "warn" if failing else "info",
            collector=self.collector,
            sources=[v.model_dump() for v in views],
        )


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

    def view(self) -> dict[str, Any]:
        failures = getattr(self, "failures", None)
        return {"collectors": failures.views()} if failures is not None else {}

    def verdict(self) -> Verdict:
        """A source that never produced a sample, or is failing at the end, is a caveat on the verdict."""
        failures = getattr(self, "failures", None)
        if failures is None:
            return Verdict()
        failures.final_event()
        return Verdict(caveats=tuple(failures.caveats()))
