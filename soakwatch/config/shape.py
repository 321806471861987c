"""The ``[[shape]]`` profile section: an arrival rate (open model) or a concurrency (closed model)
that follows segments.

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

A concurrency shape gives ``concurrency`` instead (calls in flight: ``4``, ``0`` for an idle
gap, a ramp ``"1->16"``); every segment of one shape gives the same one of the two. Its level
is the ``planned_concurrency`` column; the slot gate is :mod:`soakwatch.targets.slot_shape`.
"""

from __future__ import annotations

import re

from pydantic import ConfigDict, Field, field_validator, model_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.limits import MAX_CONCURRENCY, MAX_DURATION, MAX_RATE
from soakwatch.config.units import seconds_fields

__all__ = [
    "ShapeSegment",
    "check_one_kind",
    "concurrency_peak",
    "concurrency_shape",
    "parse_concurrency",
    "parse_rate",
    "shape_total",
]

_RAMP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*->\s*(\d+(?:\.\d+)?)\s*$")
_INT_RAMP = re.compile(r"^\s*(\d+)\s*->\s*(\d+)\s*$")


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


def parse_concurrency(v: object) -> tuple[int, int]:
    """``4`` → (4, 4); ``"1->16"`` → (1, 16). Raises ValueError naming the accepted forms."""
    if isinstance(v, int) and not isinstance(v, bool):
        lo = hi = v
    elif isinstance(v, str) and (m := _INT_RAMP.match(v)):
        lo, hi = int(m.group(1)), int(m.group(2))
    elif isinstance(v, str) and re.fullmatch(r"\s*\d+\s*", v):
        lo = hi = int(v)
    else:
        raise ValueError(
            f"concurrency {v!r}: expected calls in flight, a whole number (8, 0 for an idle gap) or a ramp ('1->16')"
        )
    if not (0 <= lo <= MAX_CONCURRENCY and 0 <= hi <= MAX_CONCURRENCY):
        raise ValueError(f"concurrency {v!r}: each end must be from 0 to {MAX_CONCURRENCY}")
    return lo, hi


class ShapeSegment(ProfileModel):
    """One segment of a load shape (``[[shape]]``): a constant rate or concurrency, or a ramp, for a while."""

    model_config = ConfigDict(populate_by_name=True)

    rate: float | str | None = Field(
        default=None,
        description="calls/s: a number (0: an idle gap, no calls) or a linear ramp 'FROM->TO' (open model)",
        examples=[20, "0->50"],
    )
    concurrency: int | str | None = Field(
        default=None,
        description="calls in flight: a whole number (0: an idle gap, no calls) or a ramp 'FROM->TO' "
        "(closed model; give rate or concurrency, the same one in every segment)",
        examples=[8, "1->16"],
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
    def _rate(cls, v: float | str | None) -> float | str | None:
        if v is not None:
            parse_rate(v)
        return v

    @field_validator("concurrency")
    @classmethod
    def _concurrency(cls, v: int | str | None) -> int | str | None:
        if v is not None:
            parse_concurrency(v)
        return v

    @model_validator(mode="after")
    def _one_of(self) -> ShapeSegment:
        if (self.rate is None) == (self.concurrency is None):
            got = f"rate = {self.rate!r} and concurrency = {self.concurrency!r}" if self.rate is not None else "neither"
            raise ValueError(
                f"a [[shape]] segment gives 'rate' (calls/s, e.g. rate = 20) or 'concurrency' "
                f"(calls in flight, e.g. concurrency = 8), one of them; got {got}"
            )
        return self

    @property
    def rates(self) -> tuple[float, float]:
        """(rate at the start, rate at the end) of the segment; (0, 0) for a concurrency segment."""
        return (0.0, 0.0) if self.rate is None else parse_rate(self.rate)

    @property
    def levels(self) -> tuple[int, int]:
        """(calls in flight at the start, at the end) of the segment; (0, 0) for a rate segment."""
        return (0, 0) if self.concurrency is None else parse_concurrency(self.concurrency)


def shape_total(shape: list[ShapeSegment]) -> float:
    """Seconds the whole shape lasts."""
    return sum(s.for_ for s in shape)


def concurrency_shape(shape: list[ShapeSegment]) -> bool:
    """True when the shape's segments give ``concurrency`` (closed model), not ``rate``."""
    return bool(shape) and shape[0].concurrency is not None


def check_one_kind(shape: list[ShapeSegment]) -> None:
    """Every segment gives what the first one gives (rate or concurrency); ValueError naming the first that does not."""
    first = "concurrency" if concurrency_shape(shape) else "rate"
    for i, seg in enumerate(shape):
        other = seg.rate if first == "concurrency" else seg.concurrency
        if other is not None:
            kind = "rate" if first == "concurrency" else "concurrency"
            raise ValueError(
                f"shape[{i}].{kind} = {other!r}: a [[shape]] gives 'concurrency' in every segment or 'rate' "
                f"in every segment, not both (shape[0] gives {first} = {getattr(shape[0], first)!r})"
            )


def concurrency_peak(shape: list[ShapeSegment], rate: float | None, executor: str, given: int | None) -> int:
    """The checks of a concurrency shape (closed model; every segment gives concurrency, no ``rate``,
    local slots) and its peak, which becomes the stage's concurrency; ``given``: the profile's own
    ``concurrency`` when it set one. Raises ValueError naming the field, the value and the accepted form."""
    check_one_kind(shape)
    if rate is not None:
        raise ValueError(
            f"rate = {rate:g}: a concurrency [[shape]] runs the closed model; leave 'rate' out "
            "(or give the shape 'rate' segments for an arrival rate that follows segments)"
        )
    peak = max(max(seg.levels) for seg in shape)
    if peak < 1:
        raise ValueError("[[shape]] plans no call: give at least one segment a concurrency above 0")
    if executor == "ray":
        raise ValueError("executor = 'ray': a concurrency [[shape]] drives local slots; use executor = 'local'")
    if given is not None and given not in (1, peak):
        raise ValueError(f"concurrency = {given}: a concurrency [[shape]] sets it (its peak, {peak}); leave it out")
    return peak
