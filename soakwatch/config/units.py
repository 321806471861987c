"""Parsing of human durations and sizes used in profiles and flags."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["format_duration", "parse_duration", "seconds_fields"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str | float | int) -> float:
    """Seconds from ``"30m"``, ``"1.5h"``, ``"90s"``, ``"250ms"`` or a bare number of seconds.

    Compound forms such as ``"1h30m"`` are accepted too.
    """
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"a duration cannot be negative: {text}")
        return float(text)
    s = text.strip()
    m = _DURATION.match(s)
    if m:
        return float(m.group(1)) * _FACTORS[m.group(2)]
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", s)
    if parts and "".join(a + b for a, b in parts) == s.replace(" ", ""):
        return sum(float(a) * _FACTORS[b] for a, b in parts)
    raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 1.5h)")


def format_duration(seconds: float) -> str:
    """``3725`` → ``"1h02m05s"``; short values keep one decimal."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h{m:02d}m{sec:02d}s"
    return f"{m}m{sec:02d}s"


def _seconds(v: object) -> object:
    return parse_duration(v) if isinstance(v, str) else v


def seconds_fields(*fields: str) -> Any:
    """A before-validator for duration fields: ``"30s"``, ``"5m"`` or a number of seconds.

    The JSON Schema of these fields says number *or* string, so an editor checking a
    profile against ``soakwatch schema`` accepts ``duration = "30m"``.
    """
    from pydantic import field_validator  # here: the CLI parses --duration without pydantic

    return field_validator(*fields, mode="before", json_schema_input_type=float | str)(_seconds)
