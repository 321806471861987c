"""The one codec of ``events.jsonl``: typed records to JSON lines and back.

:func:`encode` writes a record as the line the stage always wrote (envelope, the kind's
fields, then ``extra``). :func:`decode` reads one line's object back into its record and
never raises: an unknown ``kind`` becomes an :class:`UnknownEvent`, a field whose value
does not have the declared type keeps its default and the value stays in ``extra`` under
its own name (so it is written back as it came). :func:`build` is what
``EventLog.emit(kind, message, level, **data)`` uses to make a record of its arguments.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from soakwatch.config.safetext import JsonRefused, loads_bounded
from soakwatch.core.event_types import ENVELOPE, EVENT_TYPES, Event, Level, UnknownEvent

__all__ = ["build", "decode", "encode", "iter_lines", "read_records"]

LEVELS: frozenset[str] = frozenset(typing.get_args(Level))
_MISSING = object()
Coerce = Callable[[Any], Any]
#: per record class: JSON name -> (field name, coercer), built once from the type hints
_PLANS: dict[type[Event], dict[str, tuple[str, Coerce]]] = {}


def _exact(tp: type) -> Coerce:
    return lambda v: v if isinstance(v, tp) and not isinstance(v, bool) else _MISSING


def _as_int(v: Any) -> Any:
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return v if isinstance(v, int) and not isinstance(v, bool) else _MISSING


_SCALARS: dict[Any, Coerce] = {
    bool: lambda v: v if isinstance(v, bool) else _MISSING,
    int: _as_int,
    float: _exact(int | float),  # type: ignore[arg-type]
    str: _exact(str),
}


def _coercer(tp: Any) -> Coerce:
    """A function returning the value as type ``tp``, or ``_MISSING`` when it is not one
    (containers are checked shallowly)."""
    if tp is Any:
        return lambda v: v
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [_coercer(a) for a in typing.get_args(tp) if a is not type(None)]
        nullable = type(None) in typing.get_args(tp)

        def union(v: Any) -> Any:
            if v is None:
                return None if nullable else _MISSING
            for option in options:
                if (out := option(v)) is not _MISSING:
                    return out
            return _MISSING

        return union
    if origin is not None:
        return lambda v: v if isinstance(v, origin) else _MISSING
    return _SCALARS.get(tp) or (lambda v: v if isinstance(v, tp) else _MISSING)


def _plan(cls: type[Event]) -> dict[str, tuple[str, Coerce]]:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        plan = _PLANS[cls] = {j: (n, _coercer(hints[n])) for n, j in cls.own_fields()}
    return plan


def _fill(cls: type[Event], envelope: dict[str, Any], data: dict[str, Any]) -> Event:
    if cls is UnknownEvent:
        return UnknownEvent(**envelope, extra=dict(data))
    plan = _plan(cls)
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        step = plan.get(key)
        if step is None:
            extra[key] = value
        elif (out := step[1](value)) is _MISSING:
            extra[key] = value  # kept as it came; the typed field keeps its default
        else:
            fields[step[0]] = out
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
        with path.open(encoding="utf-8", errors="backslashreplace") as fh:
            for line in fh:
                try:  # bounded: a line too deep or a number too long is skipped, never a crash
                    obj = loads_bounded(line)
                except JsonRefused:
                    continue
                if isinstance(obj, dict):
                    yield obj
    except OSError:  # gone, or not a file: nothing to read
        return


def read_records(path: Path) -> list[Event]:
    """The typed events of an events.jsonl, in file order (empty when it is missing)."""
    return [decode(obj) for obj in iter_lines(path)]
