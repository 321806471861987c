"""The gates' part of a snapshot rebuilt from a recorded run (the evaluator's ``replay``).

The rules come from the ``gate_rules`` event, each gate's status from its transitions up
to the moment (and its ``gate_final`` verdict at the last row), the observed value and
margin from the ``gate_value[G]`` and ``gate_margin[G]`` columns.
"""

from __future__ import annotations

from typing import Any

from soakwatch.core.event_types import GateFinal, GateRules, GateTransition
from soakwatch.core.plugins import ReplayFrame
from soakwatch.core.snapshot import GateView

__all__ = ["replay_gates"]


def _status(frame: ReplayFrame) -> dict[str, tuple[str, float | None]]:
    status: dict[str, tuple[str, float | None]] = {}
    for e in frame.events:
        if isinstance(e, GateTransition):
            status[e.gate] = (e.status, e.t)
        elif isinstance(e, GateFinal) and frame.at_end:
            status[e.gate] = (e.status, e.changed_at)
    return status


def replay_gates(frame: ReplayFrame) -> dict[str, Any]:
    """``gates`` at ``frame`` (nothing when the run had no gates)."""
    rules_ev = frame.run.first(GateRules)
    if rules_ev is None:
        return {}
    tl, i = frame.run.timeline, frame.index
    status = _status(frame)
    out = []
    for r in rules_ev.gates:
        if not isinstance(r, dict) or "gate" not in r:
            continue
        name = str(r["gate"])
        observed = tl.value(f"gate_value[{name}]", i)
        st, changed = status.get(name, ("pass" if observed is not None else "pending", None))
        out.append(
            GateView(
                name=name,
                metric=str(r.get("metric", "")),
                condition=str(r.get("condition", "")),
                severity=str(r.get("severity", "fail")),
                status=st,
                observed=observed,
                margin=tl.value(f"gate_margin[{name}]", i),
                changed_at=changed,
                abort=bool(r.get("abort", False)),
            )
        )
    return {"gates": out}
