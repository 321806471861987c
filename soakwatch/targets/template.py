"""Placeholders filled from the case of a call: ``{prompt}``, ``{i}``, ``{index}``, ``{request_id}``.

Used by the HTTP target (URL, headers, body) and the command target (argv). A
placeholder is ``{name}`` or ``{name.sub}`` (a dotted path into a dict case); any
other brace, such as the braces of JSON text, is left alone, so a JSON body
template needs no escaping. The fields of a call are:

- the keys of a dict case (``{"prompt": "hi", "i": 3}`` → ``{prompt}``, ``{i}``);
- ``{case}``: the case itself (a string case as it is, anything else as JSON);
  a string case is also ``{prompt}``;
- ``{index}``: the call index; ``{request_id}``: the call's X-Request-ID.

In a JSON body (a TOML table), a string that is exactly one placeholder takes the
field's value with its JSON type; text around a placeholder makes a string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["call_fields", "fill_json", "fill_text", "missing_fields", "placeholders"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w]*(?:\.[\w]+)*)\}")
#: fields every call has, whatever its case
BUILTIN_FIELDS = frozenset({"case", "index", "request_id"})


def call_fields(case: Any, index: int, request_id: str) -> dict[str, Any]:
    """The placeholder values of one call."""
    fields: dict[str, Any] = {}
    if isinstance(case, dict):
        fields.update(case)
    elif isinstance(case, str):
        fields["prompt"] = case
    if case is not None:
        fields["case"] = case
    fields["index"] = index
    fields["request_id"] = request_id
    return fields


def _lookup(fields: Mapping[str, Any], name: str) -> Any:
    head, *rest = name.split(".")
    value: Any = fields[head]
    for part in rest:
        value = value[int(part)] if isinstance(value, list) and part.isdigit() else value[part]
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def fill_text(text: str, fields: Mapping[str, Any]) -> str:
    """``text`` with every placeholder replaced by its field as text. Raises KeyError for a missing one."""
    if "{" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: _as_text(_lookup(fields, m.group(1))), text)


def fill_json(value: Any, fields: Mapping[str, Any]) -> Any:
    """A JSON value with placeholders filled in its strings (keys are left as they are)."""
    if isinstance(value, str):
        m = _PLACEHOLDER.fullmatch(value)
        if m:
            return _lookup(fields, m.group(1))
        return fill_text(value, fields)
    if isinstance(value, dict):
        return {k: fill_json(v, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_json(v, fields) for v in value]
    return value


def placeholders(value: Any) -> set[str]:
    """Every placeholder name in a string or a JSON value."""
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def missing_fields(names: Iterable[str], cases: list[Any] | None) -> list[str]:
    """Placeholders that some case (or the absence of cases) cannot fill, for a clear error before the run."""
    missing: set[str] = set()
    samples = cases if cases else [None]
    for n, case in enumerate(samples):
        fields = call_fields(case, n, "x")
        for name in names:
            try:
                _lookup(fields, name)
            except (KeyError, IndexError, TypeError):
                missing.add(name)
    return sorted(missing)
