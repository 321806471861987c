"""Per-source values on disk: ``sources/<name>.csv`` (t, field, value), read back by the summary.

Scrapes and JSON report folders publish ``<field>[<source>]`` series to the recorder
(timeline.csv); this file keeps every value with its exact time as well, so the
summary can give first/last/min/max per field after a kill -9.
"""

from __future__ import annotations

import csv
import re
import threading
from pathlib import Path

__all__ = ["SourceLog", "read_source_log", "source_log_path"]


def source_log_path(run_dir: Path, name: str) -> Path:
    return run_dir / "sources" / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name) or 'source'}.csv"


class SourceLog:
    """Append-only ``t,field,value`` rows, flushed after each batch."""

    def __init__(self, run_dir: Path, name: str) -> None:
        path = source_log_path(run_dir, name)
        path.parent.mkdir(exist_ok=True)
        new = not path.exists()
        self._fh = path.open("a", encoding="utf-8", newline="")
        self._w = csv.writer(self._fh)
        self._lock = threading.Lock()
        if new:
            self._w.writerow(["t", "field", "value"])

    def write(self, t: float, values: dict[str, float]) -> None:
        with self._lock:
            if self._fh.closed:
                return
            for field, value in values.items():
                self._w.writerow([f"{t:.3f}", field, repr(value)])
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()


def read_source_log(path: Path) -> list[tuple[float, str, float]]:
    """Rows of a source log; torn or bad rows are skipped."""
    out: list[tuple[float, str, float]] = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                if len(row) != 3 or row[0] == "t":
                    continue
                try:
                    out.append((float(row[0]), row[1], float(row[2])))
                except ValueError:
                    continue
    except FileNotFoundError:
        pass
    return out
