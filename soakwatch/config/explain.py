"""Validation errors that teach: the section's valid fields, the nearest match, the accepted syntax.

pydantic says *what* is wrong ("Extra inputs are not permitted", "Input should be a valid
list"); a person also needs *what to write instead*. For an unknown field this module names
the fields of that section and the nearest one ("did you mean `report_fields`?"); for a value
of the wrong type it shows the field written correctly, in TOML and as ``--set``, from the
example in the model (the same one docs/profile.md shows).
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

__all__ = ["explain_errors", "field_at", "model_at"]

#: pydantic error types that mean "a value of the wrong type", where an example of the syntax helps
TYPE_ERRORS = frozenset(
    {
        "list_type",
        "dict_type",
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "bool_type",
        "bool_parsing",
        "string_type",
        "model_type",
        "model_attributes_type",
    }
)
#: fields listed in an "unknown field" message, at most
MAX_LISTED = 40

Loc = Sequence[int | str]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model that holds the fields at ``loc`` (list indices skipped), or None."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = _field(model, part)
        found = _models_in(info.annotation) if info is not None else []
        model = found[0] if found else None
    return model


def field_at(root: type[BaseModel], loc: Loc) -> FieldInfo | None:
    """The field at ``loc``, or None."""
    keys = [p for p in loc if isinstance(p, str)]
    if not keys:
        return None
    model = model_at(root, loc[: max(i for i, p in enumerate(loc) if isinstance(p, str))])
    return _field(model, keys[-1]) if model is not None else None


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _section(loc: Loc, top: str) -> str:
    keys = [str(p) for p in loc if isinstance(p, str)]
    return ".".join(keys) if keys else top


def _unknown(root: type[BaseModel], loc: Loc, top: str) -> str:
    key = str(loc[-1])
    model = model_at(root, loc[:-1])
    if model is None:
        return f"unknown field {key!r}"
    valid = [info.alias or name for name, info in model.model_fields.items()]
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    guess = f"; did you mean {near[0]!r}?" if near else ""
    listed = ", ".join(valid[:MAX_LISTED])
    where = _section(loc[:-1], top)
    return f"unknown field {key!r}{guess} (the fields of {where}: {listed}; docs/profile.md)"


def _syntax(root: type[BaseModel], loc: Loc) -> str:
    info = field_at(root, loc)
    if info is None:
        return ""
    if info.examples:
        example = info.examples[0]
    else:
        example = info.get_default(call_default_factory=True)
        if example in (None, [], {}, "") or isinstance(example, BaseModel):
            return ""
    dotted = ".".join(str(p) for p in loc if isinstance(p, str))
    key = str([p for p in loc if isinstance(p, str)][-1])
    value = _toml(example)
    return f"; write it as {key} = {value} in the profile, or --set '{dotted}={value}'"


def _line(root: type[BaseModel], err: ErrorDetails, top: str) -> str:
    loc = err["loc"]
    path = ".".join(str(x) for x in loc) or "(profile)"
    if err["type"] == "extra_forbidden" and loc:
        return f"{path}: {_unknown(root, loc, top)}"
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    msg = err["msg"].removeprefix("Value error, ")
    hint = _syntax(root, loc) if err["type"] in TYPE_ERRORS else ""
    return f"{path}: {msg}{shown}{hint}"


def explain_errors(root: type[BaseModel], exc: ValidationError, top: str = "the top level") -> list[str]:
    """One line per problem: location, what is wrong, the value, and what to write instead.

    ``top`` names the section ``root`` stands for in messages (``[[chaos]]`` for a chaos plan entry).
    """
    return [_line(root, err, top) for err in exc.errors()]
