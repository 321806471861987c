"""The gate rule model, as written in a profile's ``[[gates]]`` or on the command line.

A rule names a metric, a condition over it, a severity and how it is judged in time.
The condition syntax is parsed and checked by :mod:`gates.parse`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from soakwatch._units import parse_duration

__all__ = ["GateSpec"]


def _seconds(v: object) -> object:
    if isinstance(v, str):
        return parse_duration(v)
    return v


class GateSpec(BaseModel):
    """One gate: ``metric`` judged by ``condition`` over ``window``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    metric: str
    condition: str
    severity: Literal["warn", "fail"] = "fail"
    abort: bool = False
    delay: float = Field(default=0.0, ge=0, description="grace seconds before it is judged")
    window: str = Field(
        default="run", description="'run', a duration such as '60s', or a call count such as '1000 calls'"
    )
    min_samples: int = Field(default=1, ge=0)
    for_: int = Field(default=1, ge=1, alias="for", description="consecutive breaches before a state change")
    exempt_during_chaos: float | None = Field(default=None, ge=0)

    _secs = field_validator("delay", "exempt_during_chaos", mode="before")(_seconds)
