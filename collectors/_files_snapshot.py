"""One watched file in a snapshot: its table row and its record in the snapshot event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soakwatch.collectors._linetrack import LineTracker
from soakwatch.core.snapshot import SnapshotRow

__all__ = ["file_snapshot"]


def file_snapshot(
    key: str,
    tr: LineTracker,
    *,
    lines_before: int,
    cut: tuple[str, int, int] | None,
    label: str,
    previous: str,
    calls: int,
    t: float,
    diff: Path | None,
) -> tuple[SnapshotRow, dict[str, Any]]:
    """One file's row and event record; ``cut`` is (why, lines before, lines removed) after a truncation.

    soakwatch itself emptied the file in this interval: a bounded log refilling to its
    bound is not drift, so the interval is marked and not judged (the next whole one is).
    """
    delta = tr.lines - lines_before
    note = f"truncated ({cut[0]}): {cut[2]} lines removed" if cut is not None else ""
    row = SnapshotRow(
        label=label,
        previous=previous,
        file=key,
        lines=tr.lines,
        delta=delta,
        calls=calls,
        t=t,
        note=note,
        lines_before=cut[1] if cut is not None else None,
        removed=cut[2] if cut is not None else None,
    )
    record: dict[str, Any] = {
        "lines": tr.lines,
        "delta": delta,
        "size": tr.size,
        "exists": tr.exists,
        "truncated": cut is not None,
        "note": note,
        "lines_before": cut[1] if cut is not None else None,
        "removed": cut[2] if cut is not None else None,
        "diff": diff.name if diff else None,
    }
    return row, record
