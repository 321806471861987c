"""The gate rule model, as written in a profile's ``[[gates]]`` or on the command line.

A rule names a metric, a condition over it, a severity and how it is judged in time::

    [[gates]]
    name = "errors"
    metric = "error_ratio"          # a series, a derived metric, or "a - b" / "a / b"
    condition = "< 0.05"            # "p95 < 500", "max == 0", "monotonic", "stall < 60s", ...
    window = "60s"                  # "run", a duration, or "1000 calls"; default depends on the kind
    severity = "fail"               # "warn" | "fail"
    abort = true                    # stop the stage as soon as it fails
    delay = "10s"                   # grace before it is judged
    min_samples = 100               # fewer than this in the window: insufficient data
    for = 3                         # consecutive evaluations before a state change (hysteresis)
    exempt_during_chaos = "30s"     # not judged during chaos and this long after it

The condition text is parsed and checked against the profile by :func:`gates.check_rules`
(module :mod:`gates.parse`), which names the gate and the position of a problem.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from soakwatch.config.limits import MAX_DURATION
from soakwatch.config.units import parse_duration

__all__ = ["GateSpec", "Severity"]

Severity = Literal["warn", "fail"]
#: the most consecutive evaluations a gate may wait for (a million ticks is days at any tick)
MAX_EVALUATIONS = 1_000_000


def _seconds(v: object) -> object:
    if isinstance(v, str):
        return parse_duration(v)
    return v


class GateSpec(BaseModel):
    """One gate: ``metric`` judged by ``condition`` over ``window``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    condition: str = Field(min_length=1)
    severity: Severity = "fail"
    abort: bool = False
    delay: float = Field(
        default=0.0, ge=0, le=MAX_DURATION, allow_inf_nan=False, description="grace seconds before it is judged"
    )
    window: str | None = Field(
        default=None,
        description="'run', a duration such as '60s', or a call count such as '1000 calls'; "
        "None takes the rule kind's default (sliding 60 s for rates and percentiles)",
    )
    min_samples: int | None = Field(
        default=None, ge=0, description="samples (calls for call-based metrics) needed in the window"
    )
    for_: int = Field(
        default=1, ge=1, le=MAX_EVALUATIONS, alias="for", description="consecutive evaluations before a state change"
    )
    exempt_during_chaos: float | None = Field(
        default=None,
        ge=0,
        le=MAX_DURATION,
        allow_inf_nan=False,
        description="not judged during a chaos action and this many seconds after it",
    )

    _secs = field_validator("delay", "exempt_during_chaos", mode="before")(_seconds)

    @field_validator("window", mode="before")
    @classmethod
    def _window_text(cls, v: object) -> object:
        # a bare number in TOML (window = 60) means seconds
        if isinstance(v, int | float) and not isinstance(v, bool):
            return f"{v}s"
        return v
