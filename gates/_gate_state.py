"""One gate's live state: its rule, judge, statuses, streaks, exemptions and trend."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from soakwatch.gates.kinds import Judge, Observation
from soakwatch.gates.rules import Rule

__all__ = ["TREND_POINTS", "GateState"]

#: observed values kept per gate to fit the trend behind the time-to-breach forecast
TREND_POINTS = 60


@dataclass
class GateState:
    """One gate's live state."""

    rule: Rule
    judge: Judge
    severity: str
    status: str = "pending"
    judged: str | None = None
    raw: str = "pending"  # ok | breach | insufficient | pending
    breach_streak: int = 0
    ok_streak: int = 0
    obs: Observation | None = None
    changed_at: float | None = None
    first_judged_at: float | None = None
    worst: str = "pass"
    worst_t: float | None = None
    worst_obs: Observation | None = None
    breaches: int = 0
    forecast: float | None = None
    #: the delay has passed (the gate was evaluated at least once)
    reached_delay: bool = False
    #: some evaluation had a value, and the most samples any evaluation had
    had_value: bool = False
    most_samples: int = 0
    exempt: list[list[Any]] = field(default_factory=list)  # [start, end, action]
    trend: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=TREND_POINTS))

    @property
    def name(self) -> str:
        return self.rule.name

    def exempt_at(self, t: float) -> bool:
        return any(s <= t <= e for s, e, _ in self.exempt)
