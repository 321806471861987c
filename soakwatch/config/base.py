"""The base of every profile section model: unknown fields refused, values frozen, lists forgiving.

A field typed ``list[str]`` also takes one bare string, as a list of one (``files = "a.log"``
is ``files = ["a.log"]``; so is ``--set watch.files=a.log``): the short form is what people
type first, and it has only one meaning. A field with its own validator decides for itself.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["ProfileModel"]


def _is_str_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation) == (str,)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_str_list(a) for a in typing.get_args(annotation))
    return False


class ProfileModel(BaseModel):
    """A profile section: ``extra="forbid"`` (a typo is an error, not a silent default), frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _one_string_is_a_list(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        own = {f for d in cls.__pydantic_decorators__.field_validators.values() for f in d.info.fields}
        for name, info in cls.model_fields.items():
            if name in own:  # the field reads a string its own way (a command line split like a shell)
                continue
            key = info.alias or name
            if isinstance(out.get(key), str) and _is_str_list(info.annotation):
                out[key] = [out[key]]
        return out
