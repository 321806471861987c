"""Events: what happened during a stage, in order, written to ``events.jsonl``.

Every event has an elapsed time ``t`` (seconds since the stage started), a wall-clock
``ts`` (UTC ISO 8601), a ``kind``, a ``level`` and a message; extra fields ride along.

Levels::

    info   starts, snapshots, operator actions, chaos, recoveries
    warn   size warnings, gate warnings, insufficient data
    error  call errors, crashes, gate failures, refused actions

Listeners (gates watching for chaos, views) are called for every event; a listener
that raises is logged as an event of its own and never stops the stage.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from soakwatch.config.safetext import JsonRefused, loads_bounded, safe_obj, safe_str
from soakwatch.core.redact import redact_obj, redact_url

__all__ = ["Event", "EventLog", "Level", "utc_now"]

Level = Literal["info", "warn", "error"]

#: events kept in memory for views; the full history is on disk
RECENT_EVENTS = 500
MAX_MESSAGE = 500


def utc_now() -> str:
    """Current UTC time, ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Event:
    """One event, as written to events.jsonl."""

    seq: int
    t: float
    ts: str
    kind: str
    level: Level
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "t": round(self.t, 3),
            "ts": self.ts,
            "kind": self.kind,
            "level": self.level,
            "msg": self.message,
            **self.data,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Event:
        rest = {k: v for k, v in obj.items() if k not in {"seq", "t", "ts", "kind", "level", "msg"}}
        return cls(
            seq=int(obj.get("seq", 0)),
            t=float(obj.get("t", 0.0)),
            ts=str(obj.get("ts", "")),
            kind=str(obj.get("kind", "")),
            level=obj.get("level", "info"),
            message=str(obj.get("msg", "")),
            data=rest,
        )


Listener = Callable[[Event], None]


class EventLog:
    """Thread-safe append-only event log: a file on disk plus a bounded in-memory tail."""

    def __init__(self, path: Path | None, t0: float | None = None) -> None:
        self._lock = threading.Lock()
        self._fh: IO[str] | None = path.open("a", encoding="utf-8") if path else None
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
        """Record an event; safe from any thread.

        Text is made safe here, once, for every writer and reader behind it: lone surrogates
        become escapes (:mod:`soakwatch.config.safetext`) and the message is capped.
        """
        message = redact_url(safe_str(message))
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        data = redact_obj(safe_obj(data))
        with self._lock:
            self._seq += 1
            ev = Event(self._seq, self.elapsed(), utc_now(), kind, level, message, data)
            if self._fh is not None and self.write_error is None:
                try:
                    self._fh.write(json.dumps(ev.to_json(), default=_json_default) + "\n")
                except OSError as exc:  # disk full: the stage notices and stops (Stage._check_writes)
                    self.write_error = exc
            self.recent.append(ev)
        for listener in list(self._listeners):
            try:
                listener(ev)
            except Exception as exc:  # a listener must never stop the stage
                if kind != "listener_error":
                    self.emit("listener_error", f"{type(exc).__name__}: {exc}", "error")
        return ev

    def since(self, seq: int, limit: int = 100) -> list[Event]:
        """Events newer than ``seq`` still in memory, oldest first, at most ``limit``."""
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
    """Events from an events.jsonl; a torn last line (runner killed mid-write) is skipped, and
    a line soakwatch would not parse (not UTF-8, too deep, a huge number) is read safely or skipped."""
    out: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8", errors="backslashreplace") as fh:
            for line in fh:
                try:
                    obj = loads_bounded(line)
                except JsonRefused:
                    continue
                if isinstance(obj, dict):
                    out.append(obj)
    except OSError:  # gone, or not a file: nothing to read
        pass
    return out
