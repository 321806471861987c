"""Which runner drives a target: the choice by spec kind, with imports kept lazy.

``python`` specs run inline or in worker processes (the profile's ``isolation``);
``http`` specs run in :class:`~soakwatch.targets.http.HttpRunner` with ``[http]``;
``cmd`` specs in :class:`~soakwatch.targets.cmd.CmdRunner` with ``[cmd]``. The HTTP
clients are imported only when an HTTP stage runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soakwatch.config.profile import Profile
from soakwatch.core.platform import usable_cores
from soakwatch.core.recorder import Recorder
from soakwatch.targets.allocator import BarrierHook
from soakwatch.targets.runner import InlineRunner, Plan, Runner
from soakwatch.targets.spec import TargetSpec

__all__ = ["build_runner"]


def build_runner(
    profile: Profile,
    spec: TargetSpec,
    plan: Plan,
    recorder: Recorder,
    root: Path | None,
    cases: list[Any] | None,
    on_barrier: BarrierHook | None,
) -> Runner:
    """The runner for ``spec`` (not yet prepared)."""
    args = (plan, recorder, spec, root, cases, on_barrier)
    if profile.executor == "ray" and spec.kind in ("python", "http"):
        from soakwatch.targets.ray_runner import RayRunner

        ray_runner = RayRunner(*args)
        ray_runner.address = profile.ray_address
        ray_runner.cpus_per_slot = profile.ray_cpus_per_slot
        ray_runner.http_config = profile.http
        ray_runner.node_labels = dict(profile.ray_node_labels)
        return ray_runner
    if spec.kind == "http":
        n = profile.http.load_processes_for(profile.concurrency, usable_cores(), single=bool(profile.shape))
        config = profile.http.model_copy(update={"load_processes": n})  # "auto" resolved, once
        if n > 1:
            from soakwatch.targets.http_shard import ShardedHttpRunner

            return ShardedHttpRunner(*args, config=config)
        from soakwatch.targets.http import HttpRunner

        return HttpRunner(*args, config=config)
    if spec.kind == "cmd":
        from soakwatch.targets.cmd import CmdRunner

        return CmdRunner(*args, config=profile.cmd)
    if profile.isolation == "inline":
        return InlineRunner(*args)
    from soakwatch.targets.process_runner import ProcessRunner

    return ProcessRunner(*args)
