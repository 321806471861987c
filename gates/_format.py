"""How gate values are shown in events, views and reports."""

from __future__ import annotations

import math

__all__ = ["fmt_value"]


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
