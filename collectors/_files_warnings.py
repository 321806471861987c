"""The warnings a watched file's read raises: a corrupt read, and the size crossing warn_size_kb."""

from __future__ import annotations

from soakwatch.collectors._files_view import KB
from soakwatch.collectors._linetrack import LineTracker
from soakwatch.core.events import EventLog

__all__ = ["emit_read_warnings"]


def emit_read_warnings(
    events: EventLog, key: str, tr: LineTracker, corrupt: str | None, warn: float | None, was_over: bool
) -> None:
    """Emit ``corrupt_read`` for a read that did not parse, ``size_warning`` when it just went over ``warn`` KB."""
    if corrupt is not None:
        events.emit(
            "corrupt_read",
            f"corrupt read of {key}: {corrupt} ({tr.size} bytes; read #{tr.corrupt_reads})",
            "warn",
            file=key,
            error=corrupt,
            size=tr.size,
            count=tr.corrupt_reads,
        )
    if warn is not None and not was_over and tr.exists and tr.size > warn * KB:
        events.emit(
            "size_warning",
            f"{key} is {tr.size / KB:.1f} KB, over warn_size_kb={warn:g}",
            "warn",
            file=key,
            size_kb=round(tr.size / KB, 3),
            threshold_kb=warn,
        )
