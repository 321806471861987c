"""How numbers read to a person, the same in every view (headless, TUI, reports): one place.

Pure functions over plain values, no textual or rich here. Examples::

    fmt_ms(0.004) == "4µs"     fmt_ms(0.85) == "850µs"    fmt_ms(12.5) == "12.50ms"
    fmt_ms(250.0) == "250.0ms" fmt_ms(1500) == "1.50s"    fmt_rate(1234.5) == "1,234/s"
"""

from __future__ import annotations

import math

from soakwatch.config.units import format_duration

__all__ = [
    "fmt_bytes",
    "fmt_count",
    "fmt_duration",
    "fmt_ms",
    "fmt_observed",
    "fmt_rate",
    "fmt_signed",
    "fmt_value",
]


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
    """A latency: microseconds below a millisecond, seconds from one second."""
    if ms is None or math.isnan(ms):
        return "—"
    if ms < 1.0:
        return f"{ms * 1000:.0f}µs"
    if ms < 100:
        return f"{ms:.2f}ms"
    if ms < 1000:
        return f"{ms:.1f}ms"
    return f"{ms / 1000:.2f}s"


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


def fmt_value(v: float | str | None) -> str:
    """A short human form: ``0.0512``, ``512.3``, ``12``, ``—`` for no value."""
    if v is None or isinstance(v, str):
        return v or "—"
    if math.isnan(v):
        return "—"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.4g}"
