"""A stage's plan: how hard and how long the runner drives the target, from the profile."""

from __future__ import annotations

from soakwatch.config.profile import Profile
from soakwatch.config.shape import concurrency_shape
from soakwatch.targets.runner import Plan
from soakwatch.targets.schedule import GRACE_MIN

__all__ = ["stage_plan"]


def stage_plan(profile: Profile, barrier: int | None) -> Plan:
    """The plan of ``profile``; ``barrier``: the plugins' barrier every N calls, if any."""
    levels = tuple((seg.for_, *seg.levels) for seg in profile.shape) if concurrency_shape(profile.shape) else ()
    shape = () if levels else tuple((seg.for_, *seg.rates) for seg in profile.shape)
    rate = max(max(r0, r1) for _, r0, r1 in shape) if shape else profile.rate
    return Plan(
        profile.calls,
        profile.duration,
        profile.concurrency,
        rate,
        profile.timeout,
        barrier,
        profile.seed,
        # an arrival that waits more than a tick (at least GRACE_MIN) for a free slot is missed
        grace=max(profile.tick, GRACE_MIN),
        shape=shape,
        stop_grace=profile.stop_grace,
        levels=levels,
    )
