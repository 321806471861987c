"""Events: what happened during a stage, in order, written to ``events.jsonl``.

Every event has an elapsed time ``t`` (seconds since the stage started), a wall-clock
``ts`` (UTC ISO 8601), a ``kind``, a ``level`` and a message; extra fields ride along.

Levels::

    info   starts, snapshots, operator actions, chaos, recoveries
    warn   size warnings, gate warnings, insufficient data
    error  call errors, crashes, gate failures, refused actions

Each event is a typed record (:mod:`soakwatch.core.event_types`, one class per kind);
:class:`EventLog` is the one writer, :func:`soakwatch.core.event_codec.read_records` the one
reader. ``emit(kind, message, level, **data)`` builds the record of ``kind`` from its
arguments (a kind not declared yet is kept as an :class:`UnknownEvent`);
``record(ev)`` takes a record built by the caller.

Listeners (gates watching for chaos, views) are called for every event; a listener
that raises is logged as an event of its own and never stops the stage.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from soakwatch.config.safetext import safe_obj, safe_str
from soakwatch.core.event_codec import build, encode, iter_lines, read_records
from soakwatch.core.event_types import Event, Level, ListenerError
from soakwatch.core.redact import redact_obj, redact_text

__all__ = ["Event", "EventLog", "Level", "read_events", "read_records", "utc_now"]

#: events kept in memory for views; the full history is on disk
RECENT_EVENTS = 500
MAX_MESSAGE = 500


def utc_now() -> str:
    """Current UTC time, ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


Listener = Callable[[Event], None]


class EventLog:
    """Thread-safe append-only event log: a file on disk plus a bounded in-memory tail."""

    def __init__(self, path: Path | None, t0: float | None = None) -> None:
        self._lock = threading.Lock()
        # line-buffered: each event is on disk as soon as it is emitted, so a monitor killed at once
        # (SIGKILL, a target killing its parent) still leaves every event before it
        self._fh: IO[str] | None = path.open("a", encoding="utf-8", buffering=1) if path else None
        self._t0 = time.monotonic() if t0 is None else t0
        self._seq = 0
        self.recent: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self._listeners: list[Listener] = []
        #: the first error writing events.jsonl (disk full, read-only); later events stay in memory only
        self.write_error: OSError | None = None

    @property
    def seq(self) -> int:
        return self._seq

    def restart_clock(self) -> None:
        """Make t=0 now (the stage's first call); events before it keep negative times."""
        self._t0 = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, kind: str, message: str, level: Level = "info", **data: Any) -> Event:
        """Record an event of ``kind`` with ``data`` as its fields; safe from any thread.

        Text is made safe here, once, for every writer and reader behind it: lone surrogates
        become escapes (:mod:`soakwatch.config.safetext`), secrets are redacted and the message is capped.
        """
        message = redact_text(safe_str(message))
        data = redact_obj(safe_obj(data))
        return self._append(
            lambda seq, t, ts: build(kind, seq=seq, t=t, ts=ts, level=level, message=message, data=data)
        )

    def record(self, ev: Event) -> Event:
        """Record a typed event built by the caller (its seq, t and ts are stamped here)."""
        return self._append(lambda seq, t, ts: dataclasses.replace(ev, seq=seq, t=t, ts=ts))

    def _append(self, make: Callable[[int, float, str], Event]) -> Event:
        with self._lock:
            self._seq += 1
            ev = make(self._seq, self.elapsed(), utc_now())
            if len(ev.message) > MAX_MESSAGE:
                ev = dataclasses.replace(ev, message=ev.message[: MAX_MESSAGE - 1] + "…")
            if self._fh is not None and self.write_error is None:
                try:
                    self._fh.write(json.dumps(safe_obj(encode(ev)), default=_json_default) + "\n")
                except OSError as exc:  # disk full: the stage notices and stops (Stage._check_writes)
                    self.write_error = exc
            self.recent.append(ev)
        for listener in list(self._listeners):
            try:
                listener(ev)
            except Exception as exc:  # a listener must never stop the stage
                if not isinstance(ev, ListenerError):
                    self.record(ListenerError(level="error", message=f"{type(exc).__name__}: {exc}"))
        return ev

    def since(self, seq: int, limit: int = RECENT_EVENTS) -> list[Event]:
        """Events newer than ``seq`` still in memory, oldest first, at most ``limit`` (the newest)."""
        with self._lock:
            out = [e for e in self.recent if e.seq > seq]
        return out[-limit:]

    def flush(self) -> None:
        with self._lock:
            if self._fh is not None and self.write_error is None:
                try:
                    self._fh.flush()
                except OSError as exc:
                    self.write_error = exc

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                try:
                    self._fh.close()
                except OSError as exc:  # the last buffered lines did not fit
                    self.write_error = self.write_error or exc
                self._fh = None


def _json_default(obj: object) -> str:
    try:
        return safe_str(str(obj))
    except Exception:
        return f"<unprintable {type(obj).__name__}>"


def read_events(path: Path) -> list[dict[str, Any]]:
    """The raw JSON objects of an events.jsonl (torn lines skipped); code reads :func:`read_records`."""
    return list(iter_lines(path))
