"""The one codec of ``events.jsonl``: typed records to JSON lines and back.

:func:`encode` writes a record as the line the stage always wrote (envelope, the kind's
fields, then ``extra``). :func:`decode` reads one line's object back into its record and
never raises: an unknown ``kind`` becomes an :class:`UnknownEvent`, a field whose value
does not have the declared type keeps its default and the value stays in ``extra`` under
its own name (so it is written back as it came). :func:`build` is what
``EventLog.emit(kind, message, level, **data)`` uses to make a record of its arguments.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from soakwatch.core.event_types import ENVELOPE, EVENT_TYPES, Event, Level, UnknownEvent

__all__ = ["build", "decode", "encode", "iter_lines", "read_records"]

LEVELS: frozenset[str] = frozenset(typing.get_args(Level))
_MISSING = object()
_HINTS: dict[type[Event], dict[str, Any]] = {}


def _hints(cls: type[Event]) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _coerce(tp: Any, value: Any) -> Any:
    """``value`` as type ``tp``, or ``_MISSING`` when it is not one (containers are checked shallowly)."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None if type(None) in typing.get_args(tp) else _MISSING
        for arg in typing.get_args(tp):
            if arg is not type(None) and (out := _coerce(arg, value)) is not _MISSING:
                return out
        return _MISSING
    if origin is not None:
        return value if isinstance(value, origin) else _MISSING
    if tp is bool:
        return value if isinstance(value, bool) else _MISSING
    if isinstance(value, bool):
        return _MISSING
    if tp is float:
        return value if isinstance(value, int | float) else _MISSING
    if tp is int:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        return value if isinstance(value, int) else _MISSING
    return value if isinstance(value, tp) else _MISSING


def _fill(cls: type[Event], envelope: dict[str, Any], data: dict[str, Any]) -> Event:
    if cls is UnknownEvent:
        return UnknownEvent(**envelope, extra=dict(data))
    hints = _hints(cls)
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    names = dict((j, n) for n, j in cls.own_fields())
    for key, value in data.items():
        name = names.get(key)
        if name is None:
            extra[key] = value
        elif (out := _coerce(hints[name], value)) is _MISSING:
            extra[key] = value  # kept as it came; the typed field keeps its default
        else:
            fields[name] = out
    return cls(**envelope, **fields, extra=extra)


def build(kind: str, *, seq: int, t: float, ts: str, level: Level, message: str, data: dict[str, Any]) -> Event:
    """The record of ``kind`` with these fields (an :class:`UnknownEvent` for a kind not declared)."""
    cls = EVENT_TYPES.get(kind, UnknownEvent)
    envelope: dict[str, Any] = {"seq": seq, "t": t, "ts": ts, "level": level, "message": message}
    if cls is UnknownEvent:
        envelope["unknown_kind"] = kind
    return _fill(cls, envelope, data)


def encode(ev: Event) -> dict[str, Any]:
    """The JSON object of one line of events.jsonl."""
    return {
        "seq": ev.seq,
        "t": round(ev.t, 3),
        "ts": ev.ts,
        "kind": ev.kind,
        "level": ev.level,
        "msg": ev.message,
        **{j: getattr(ev, n) for n, j in ev.own_fields()},
        **ev.extra,
    }


def _num(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return float(value)


def decode(obj: dict[str, Any]) -> Event:
    """The record of one parsed line; never raises, whatever the line holds."""
    kind = obj.get("kind")
    level = obj.get("level")
    seq = obj.get("seq")
    return build(
        kind if isinstance(kind, str) else "",
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else 0,
        t=_num(obj.get("t"), 0.0),
        ts=str(obj.get("ts") or ""),
        level=level if isinstance(level, str) and level in LEVELS else "info",  # type: ignore[arg-type]
        message=str(obj.get("msg") or ""),
        data={k: v for k, v in obj.items() if k not in ENVELOPE},
    )


def iter_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Every JSON object line of a file; torn or non-JSON lines (a runner killed mid-write) are skipped."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    yield obj
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return


def read_records(path: Path) -> list[Event]:
    """The typed events of an events.jsonl, in file order (empty when it is missing)."""
    return [decode(obj) for obj in iter_lines(path)]
