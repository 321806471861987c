"""A stage's plan: how hard and how long the runner drives the target, from the profile."""

from __future__ import annotations

from soakwatch.config.profile import Profile
from soakwatch.targets.runner import Plan
from soakwatch.targets.schedule import GRACE_MIN

__all__ = ["stage_plan"]


def stage_plan(profile: Profile, barrier: int | None) -> Plan:
    """The plan of ``profile``; ``barrier``: the plugins' barrier every N calls, if any."""
    return Plan(
        profile.calls,
        profile.duration,
        profile.concurrency,
        profile.rate,
        profile.timeout,
        barrier,
        profile.seed,
        # an arrival that waits more than a tick (at least GRACE_MIN) for a free slot is missed
        grace=max(profile.tick, GRACE_MIN),
        stop_grace=profile.stop_grace,
    )
