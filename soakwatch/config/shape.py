"""The ``[[shape]]`` profile section: an arrival rate that follows segments (open model).

Example::

    [[shape]]           # warm-up ramp
    rate = "0->20"
    for = "30s"
    [[shape]]           # steady
    rate = 20
    for = "2m"
    [[shape]]           # idle gap: no load at all (does the server unload the model?)
    rate = 0
    for = "10m"
    [[shape]]           # a burst
    rate = 200
    for = "5s"

Each segment lasts ``for``; ``rate`` is calls/s, constant (``20``) or a linear ramp
(``"0->20"``). The stage lasts the whole shape unless ``duration`` or ``calls`` ends it
sooner; the planned rate is the ``planned_rate`` column of ``timeline.csv``, drawn on the
rate charts. The schedule itself is :mod:`soakwatch.targets.shape`.
"""

from __future__ import annotations

import re

from pydantic import ConfigDict, Field, field_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.limits import MAX_DURATION, MAX_RATE
from soakwatch.config.units import seconds_fields

__all__ = ["ShapeSegment", "parse_rate", "shape_total"]

_RAMP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*->\s*(\d+(?:\.\d+)?)\s*$")


def parse_rate(v: object) -> tuple[float, float]:
    """``20`` → (20, 20); ``"0->20"`` → (0, 20). Raises ValueError naming the accepted forms."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        lo = hi = float(v)
    elif isinstance(v, str) and (m := _RAMP.match(v)):
        lo, hi = float(m.group(1)), float(m.group(2))
    elif isinstance(v, str) and re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", v):
        lo = hi = float(v)
    else:
        raise ValueError(f"rate {v!r}: expected calls/s (20, 0 for an idle gap) or a ramp ('0->20')")
    if not (0 <= lo <= MAX_RATE and 0 <= hi <= MAX_RATE):
        raise ValueError(f"rate {v!r}: each end must be from 0 to {MAX_RATE:g} calls/s")
    return lo, hi


class ShapeSegment(ProfileModel):
    """One segment of a load shape (``[[shape]]``): a constant rate or a ramp for a while."""

    model_config = ConfigDict(populate_by_name=True)

    rate: float | str = Field(
        description="calls/s: a number (0: an idle gap, no calls) or a linear ramp 'FROM->TO'",
        examples=[20, "0->50"],
    )
    for_: float = Field(
        alias="for",
        gt=0,
        le=MAX_DURATION,
        description="how long the segment lasts ('2m', '500ms', or seconds)",
        examples=["2m"],
    )

    _secs = seconds_fields("for_")

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: float | str) -> float | str:
        parse_rate(v)
        return v

    @property
    def rates(self) -> tuple[float, float]:
        """(rate at the start, rate at the end) of the segment."""
        return parse_rate(self.rate)


def shape_total(shape: list[ShapeSegment]) -> float:
    """Seconds the whole shape lasts."""
    return sum(s.for_ for s in shape)
