"""Small, pure formatting helpers shared by the panel renderers (no textual here)."""

from __future__ import annotations

from soakwatch.config.units import format_duration

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


def fmt_duration(seconds: float | None) -> str:
    """``None`` → ``"—"``; otherwise the project's compact duration."""
    return "—" if seconds is None else format_duration(max(0.0, seconds))


def fmt_count(n: int | float) -> str:
    return f"{n:,.0f}"


def fmt_rate(per_s: float) -> str:
    """Calls per second with as many decimals as the size warrants."""
    if per_s >= 100:
        return f"{per_s:,.0f}/s"
    if per_s >= 10:
        return f"{per_s:.1f}/s"
    return f"{per_s:.2f}/s"


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms >= 1000:
        return f"{ms / 1000:.2f}s"
    if ms >= 100:
        return f"{ms:.0f}ms"
    if ms >= 10:
        return f"{ms:.1f}ms"
    return f"{ms:.2f}ms"


def fmt_bytes(n: int | float) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024 or unit == "GB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}GB"  # pragma: no cover - loop always returns


def fmt_signed(n: int | float, unit: str = "") -> str:
    return f"{n:+,.0f}{unit}" if isinstance(n, int) or float(n).is_integer() else f"{n:+,.1f}{unit}"


def fmt_observed(value: float | str | None) -> str:
    """A gate's observed value: numbers trimmed, text as is, nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
