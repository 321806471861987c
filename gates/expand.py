"""One rule over many subjects: ``committed_height[*] stall < 10s`` is a gate per node.

A ``[*]`` subject in a gate's metric expands, before the rules are checked, into one gate
per subject the profile has for that kind, each named with its subject
(``height stall [node1]``); ``a[*] - b[*]`` takes the same subject on both sides.
Subjects by kind: process kinds → ``[[nodes]]`` ids, ``[[processes.watch]]`` names and
the target's workers (``worker-0`` .. ``worker-N-1`` under process isolation);
file kinds → the watched files that are not globs; any other kind → the ``[[scrape]]``,
``[[reports]]`` and node report sources that declare it as a field.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from soakwatch.gates.metrics import FILE_KINDS, PROCESS_KINDS
from soakwatch.targets.spec import parse_target

if TYPE_CHECKING:
    from soakwatch.config.gates import GateSpec
    from soakwatch.config.profile import Profile

__all__ = ["WILDCARD", "expand_wildcards", "subjects_of"]

WILDCARD = "[*]"
_KIND = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\[\*\]")


def subjects_of(kind: str, profile: Profile) -> list[str]:
    """Every subject this profile produces ``kind[subject]`` for, in profile order."""
    if kind in PROCESS_KINDS:
        return [n.id for n in profile.nodes] + [w.name for w in profile.processes.watch] + _workers(profile)
    if kind in FILE_KINDS:
        return [f for f in profile.watch.files if not any(c in f for c in "*?[")]
    out = [s.name for s in profile.scrape if kind in s.fields]
    out += [r.name for r in profile.reports if kind in r.fields]
    out += [n.id for n in profile.nodes if kind in (n.report_fields or {})]
    return out


def _workers(profile: Profile) -> list[str]:
    """``worker-0`` .. ``worker-N-1``: one per concurrency slot of a Python target in process isolation."""
    if profile.isolation != "process" or profile.target is None or parse_target(profile.target).kind != "python":
        return []
    return [f"worker-{i}" for i in range(profile.concurrency)]


def expand_wildcards(spec: GateSpec, profile: Profile) -> list[GateSpec]:
    """``spec`` itself, or one gate per subject when its metric has ``[*]`` (none: a clear error)."""
    kinds = _KIND.findall(spec.metric)
    if not kinds:
        return [spec]
    subjects = subjects_of(kinds[0], profile)
    for kind in kinds[1:]:
        subjects = [s for s in subjects if s in subjects_of(kind, profile)]
    if not subjects:
        raise ValueError(f"no subject in this profile has {' and '.join(sorted(set(kinds)))}")
    return [
        spec.model_copy(update={"name": f"{spec.name} [{s}]", "metric": spec.metric.replace(WILDCARD, f"[{s}]")})
        for s in subjects
    ]
