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

from pydantic import ConfigDict, Field, field_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.limits import MAX_DURATION
from soakwatch.config.units import seconds_fields

__all__ = ["GateSpec", "Severity"]

Severity = Literal["warn", "fail"]
#: the most consecutive evaluations a gate may wait for (a million ticks is days at any tick)
MAX_EVALUATIONS = 1_000_000


class GateSpec(ProfileModel):
    """One gate (``[[gates]]``, or ``--gate``): ``metric`` judged by ``condition`` over ``window`` (docs/gates.md)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, description="shown in the gates panel and the summary", examples=["errors"])
    metric: str = Field(
        min_length=1,
        description="a series (latency, error_ratio, size_kb[FILE], committed_height[NODE], ...) or 'a - b' / 'a / b'",
        examples=["error_ratio"],
    )
    condition: str = Field(
        min_length=1,
        description="'< 5%', 'p95 < 500ms', 'max == 0', 'last == 0', 'monotonic', 'stall < 60s', 'always', "
        "'alive', ... (docs/gates.md)",
        examples=["< 5%"],
    )
    severity: Severity = Field(default="fail", description="fail: a failure fails the stage (exit 1); warn: reported")
    abort: bool = Field(default=False, description="stop the stage as soon as the gate fails")
    delay: float = Field(
        default=0.0,
        ge=0,
        le=MAX_DURATION,
        allow_inf_nan=False,
        description="grace seconds before it is judged",
        examples=["30s"],
    )
    window: str | None = Field(
        default=None,
        description="'run', a duration such as '60s', or a call count such as '1000 calls'; "
        "unset: the rule kind's default (sliding 60 s for rates and percentiles)",
        examples=["60s"],
    )
    min_samples: int | None = Field(
        default=None, ge=0, description="samples (calls for call-based metrics) needed in the window", examples=[100]
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
        examples=["30s"],
    )
    at_end: bool = Field(
        default=False,
        description="judged once, on the values at the end of the stage ('errors at end == 10'), not on every tick",
    )

    _secs = seconds_fields("delay", "exempt_during_chaos")

    @field_validator("window", mode="before", json_schema_input_type=str | float)
    @classmethod
    def _window_text(cls, v: object) -> object:
        # a bare number in TOML (window = 60) means seconds
        if isinstance(v, int | float) and not isinstance(v, bool):
            return f"{v}s"
        return v
