"""``failures.jsonl``: one line per failed call, so every failure can be found.

Written by the recorder on each tick (the calls that failed since the last one),
read by ``report`` and ``compare``. One line::

    {"call": 412, "t": 12.5, "kind": "HTTP 503", "timeout": false, "latency_ms": 201.3,
     "request_id": "3fa2c1d0-412", "message": "HTTP 503 [3fa2c1d0-412]: overloaded"}

``t`` is the stage time of the tick that recorded the call (within one tick of its
end); ``request_id`` is present when the target sent one (HTTP ``X-Request-ID``),
``latency_ms`` when the call's duration is known. The file stops growing at
:data:`FAILURES_MAX_BYTES`; the failures left out are counted, not lost: the summary
gives them as the errors and timeouts minus the lines (:func:`count_failures`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

__all__ = ["FAILURES_FILE", "FAILURES_MAX_BYTES", "Failure", "FailureLog", "count_failures", "read_failures"]

FAILURES_FILE = "failures.jsonl"
#: size cap of failures.jsonl: about 400,000 failed calls; past it failures are only counted
FAILURES_MAX_BYTES = 64 * 1024 * 1024
MAX_MESSAGE = 300


class Failure(Protocol):
    """One failed call as the recorder has it (:class:`soakwatch.core.recorder.ErrorRecord`)."""

    @property
    def kind(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def timeout(self) -> bool: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def latency_ns(self) -> int: ...


class FailureLog:
    """Appends one JSON line per failed call, up to a size cap; counts those left out."""

    def __init__(self, path: Path | None, max_bytes: int | None = None) -> None:
        self.path = path
        self.max_bytes = FAILURES_MAX_BYTES if max_bytes is None else max_bytes
        self.written = 0
        self.left_out = 0
        self._bytes = 0
        self._fh: IO[str] | None = None

    @property
    def capped(self) -> bool:
        return self._bytes >= self.max_bytes

    def write(self, errors: Iterable[Failure], t: float) -> None:
        """Append the failures of one tick (and flush them: a kill loses at most a tick)."""
        if self.path is None:
            return
        lines: list[str] = []
        for err in errors:
            if self._bytes >= self.max_bytes:
                self.left_out += 1
                continue
            rec: dict[str, Any] = {"call": err.index, "t": round(t, 3), "kind": err.kind, "timeout": err.timeout}
            if err.latency_ns >= 0:
                rec["latency_ms"] = round(err.latency_ns / 1e6, 3)
            if err.request_id is not None:
                rec["request_id"] = err.request_id
            rec["message"] = err.message[:MAX_MESSAGE]
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            self._bytes += len(line)
            lines.append(line)
        if not lines:
            return
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write("".join(lines))
        self._fh.flush()
        self.written += len(lines)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_failures(run_dir: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The failures of a run, in order (a line torn by a kill is skipped)."""
    path = run_dir / FAILURES_FILE
    try:
        fh = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with fh:
        n = 0
        for line in fh:
            if limit is not None and n >= limit:
                return
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                n += 1
                yield obj


def count_failures(run_dir: Path) -> int:
    """Complete lines in failures.jsonl (0 when there is none)."""
    try:
        with (run_dir / FAILURES_FILE).open("rb") as fh:
            return sum(1 for line in fh if line.endswith(b"\n"))
    except FileNotFoundError:
        return 0
