"""Overrides of profile fields: command-line flags, ``--set KEY=VALUE`` and a sweep cell's axes,
applied to a profile's data before it is validated (one rule for all three)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from soakwatch.config.errors import UsageError

__all__ = ["apply_overrides", "override", "parse_value", "set_dotted"]

#: a stage is bounded by one of these: setting one drops the other
_EXCLUSIVE = {"calls": "duration", "duration": "calls"}


def parse_value(text: str) -> Any:
    """A ``--set`` value as TOML (``50``, ``"x"``, ``[1, 2]``, ``{a = 1}``), else the text itself."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``a.b.c`` in nested tables, creating the missing (or empty) ones; exit 2 when a part
    of the path is a value, not a table."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UsageError(f"{part!r} is not a table", where="--set", field=key)
        node = child
    node[parts[-1]] = value


def override(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` (dotted) to ``value``; ``calls`` and ``duration`` replace each other."""
    set_dotted(data, key, value)
    other = _EXCLUSIVE.get(key)
    if other is not None:
        data.pop(other, None)


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], sets: Sequence[str] = ()) -> dict[str, Any]:
    """Profile data with CLI flags applied; ``None`` values leave the profile's value."""
    out = dict(data)
    for key, value in overrides.items():
        if value is not None:
            override(out, key, value)
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError("expected KEY=VALUE", where="--set", value=item)
        set_dotted(out, key.strip(), parse_value(raw.strip()))
    return out
