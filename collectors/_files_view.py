"""The files collector's part of a snapshot rebuilt from a recorded run (its ``replay``).

The live view (:meth:`FilesCollector.view`) reads the trackers; a recorded run has what
the collector published: the ``size_kb[F]``, ``lines[F]`` and ``corrupt_reads[F]`` columns
of every watched file (also those that first appeared mid-run) and its ``snapshot`` events.
"""

from __future__ import annotations

from typing import Any

from soakwatch.core.event_types import SnapshotTaken
from soakwatch.core.plugins import ReplayFrame
from soakwatch.core.snapshot import FileView, SnapshotRow

__all__ = ["KB", "ROWS_SHOWN", "replay_files"]

KB = 1024
#: snapshot rows carried by each snapshot, newest first
ROWS_SHOWN = 60


def _files(frame: ReplayFrame) -> list[FileView]:
    tl, i = frame.run.timeline, frame.index
    warn = (frame.profile.get("watch") or {}).get("warn_size_kb")
    out = []
    for path in sorted(set(tl.subjects("size_kb")) | set(tl.subjects("lines"))):
        size_kb = tl.value(f"size_kb[{path}]", i)
        lines = tl.value(f"lines[{path}]", i)
        first_kb = tl.first_value(f"size_kb[{path}]")
        first_lines = tl.first_value(f"lines[{path}]")
        size = int((size_kb or 0.0) * KB)
        out.append(
            FileView(
                path=path,
                size=size,
                lines=int(lines or 0),
                growth_lines=int((lines or 0) - (first_lines or 0)),
                growth_bytes=int(((size_kb or 0.0) - (first_kb or 0.0)) * KB),
                corrupt_reads=int(tl.value(f"corrupt_reads[{path}]", i) or 0),
                over_warn=isinstance(warn, int | float) and size > warn * KB,
                exists=size_kb is not None,
            )
        )
    return out


def _snapshot_rows(frame: ReplayFrame) -> list[SnapshotRow]:
    rows: list[SnapshotRow] = []
    for e in frame.events:
        if not isinstance(e, SnapshotTaken):
            continue
        for path, info in sorted(e.files.items()):
            if isinstance(info, dict):
                rows.append(
                    SnapshotRow(
                        label=e.label,
                        previous=e.previous or "",
                        file=str(path),
                        lines=int(info.get("lines") or 0),
                        delta=int(info.get("delta") or 0),
                        calls=e.calls,
                        t=e.t,
                    )
                )
    return rows[-ROWS_SHOWN:][::-1]


def replay_files(frame: ReplayFrame) -> dict[str, Any]:
    """``files`` and ``snapshots`` of the snapshot at ``frame`` (nothing when no file was watched)."""
    files = _files(frame)
    rows = _snapshot_rows(frame)
    return {"files": files, "snapshots": rows} if files or rows else {}
