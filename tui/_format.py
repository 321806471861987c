"""The TUI's styles; the number formats are soakwatch.core.format's, shared with every view (no textual here)."""

from __future__ import annotations

from soakwatch.core.format import fmt_bytes, fmt_count, fmt_duration, fmt_ms, fmt_observed, fmt_rate, fmt_signed

__all__ = [
    "LEVEL_STYLES",
    "STATE_STYLES",
    "STATUS_STYLES",
    "fmt_bytes",
    "fmt_count",
    "fmt_duration",
    "fmt_ms",
    "fmt_observed",
    "fmt_rate",
    "fmt_signed",
]

#: the stage state badge: one colour per state, so the state reads at a glance
STATE_STYLES: dict[str, str] = {
    "STARTING": "bold black on grey70",
    "RUNNING": "bold black on green",
    "PAUSED": "bold black on yellow",
    "ABORTING": "bold black on dark_orange",
    "STOPPING": "bold black on dark_orange",
    "PASSED": "bold white on green4",
    "FAILED": "bold white on red3",
    "ABORTED": "bold white on red3",
    "INTERRUPTED": "bold white on magenta",
    "ERROR": "bold white on dark_red",
}
#: gate statuses (soakwatch.config.gates): anything unknown is shown plain
STATUS_STYLES: dict[str, str] = {
    "pass": "bold green",
    "ok": "bold green",
    "passed": "bold green",
    "warn": "bold yellow",
    "pending": "dim",
    "insufficient": "dim",
    "fail": "bold red",
    "failed": "bold red",
    "abort": "bold white on red3",
}
LEVEL_STYLES: dict[str, str] = {"debug": "dim", "info": "", "warn": "yellow", "warning": "yellow", "error": "red"}
