"""Dotted field paths into JSON (``node_snapshot.consensus.committed_height``, ``peers.0.lag``)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MISSING", "extract", "to_number"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def extract(data: Any, path: str) -> Any:
    """The value at a dotted path; list elements by index. :data:`MISSING` when absent."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict):
            if part not in node:
                return MISSING
            node = node[part]
        elif isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                return MISSING
        else:
            return MISSING
    return node


def to_number(value: Any) -> float | None:
    """A series value: numbers as they are, booleans as 1/0, numeric strings parsed; else None."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str):
        try:
            v = float(value)
        except ValueError:
            return None
        return v if math.isfinite(v) else None
    return None
