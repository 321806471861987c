"""Chaos and gates: exemptions while chaos runs, and the time each gate takes to recover after it."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from soakwatch.core.event_types import ChaosEnd, ChaosStart
from soakwatch.core.events import EventLog
from soakwatch.gates._gate_state import GateState

__all__ = ["Recovery", "check_recoveries", "drain_chaos"]


@dataclass
class Recovery:
    """A chaos action waiting for every gate to be back to pass."""

    action: str
    started: float
    since: float
    #: the chaos is over: its end event arrived, or its announced duration passed
    ended: bool = False
    #: gates in breach at some point since the chaos started, and those back to pass since it ended
    hit: set[str] = field(default_factory=set)
    back: set[str] = field(default_factory=set)


def drain_chaos(
    inbox: deque[ChaosStart | ChaosEnd],
    chaos_open: dict[str, Recovery],
    recoveries: list[Recovery],
    gates: list[GateState],
) -> None:
    """Apply the queued chaos events: open a recovery and an exemption per start, close them per end."""
    while inbox:
        ev = inbox.popleft()
        action = ev.action if ev.action is not None else "chaos"
        if isinstance(ev, ChaosStart):
            dur = float(ev.duration or 0.0)
            rec = Recovery(action, ev.t, ev.t + dur)
            chaos_open[action] = rec
            recoveries.append(rec)
            # without an announced duration the exemption lasts until chaos_end
            end = ev.t + dur if dur > 0 else math.inf
            for g in gates:
                margin = g.rule.spec.exempt_during_chaos
                if margin is not None:
                    g.exempt.append([ev.t, end + margin, action])
        else:
            opened = chaos_open.pop(action, None)
            if opened is not None:
                opened.since = ev.t
                opened.ended = True
            for g in gates:
                margin = g.rule.spec.exempt_during_chaos
                if margin is None:
                    continue
                for w in reversed(g.exempt):
                    if w[2] == action:
                        w[1] = ev.t + margin
                        break


def _gate_recoveries(rec: Recovery, t: float, gates: list[GateState], events: EventLog) -> None:
    """Time to recover per gate: each gate the chaos put in breach, back to pass after it ended."""
    for g in gates:
        if g.raw == "breach":
            rec.hit.add(g.name)
            rec.back.discard(g.name)
        elif rec.ended and g.name in rec.hit and g.name not in rec.back:
            rec.back.add(g.name)
            secs = max(0.0, t - rec.since)
            events.emit(
                "gate_recovery",
                f"chaos {rec.action}: gate {g.name} back to pass {secs:.1f}s after it ended",
                "info",
                action=rec.action,
                gate=g.name,
                chaos_start=rec.started,
                chaos_end=rec.since,
                recovered=True,
                seconds=round(secs, 3),
            )


def check_recoveries(recoveries: list[Recovery], gates: list[GateState], t: float, events: EventLog) -> None:
    """Emit the recoveries: per gate back to pass, and once every gate is back after the chaos ended."""
    if not recoveries:
        return
    clear = all(g.raw != "breach" for g in gates)
    for rec in list(recoveries):
        if not rec.ended and rec.since > rec.started and t >= rec.since:
            rec.ended = True
        _gate_recoveries(rec, t, gates, events)
        if not rec.ended or not clear:
            continue
        recoveries.remove(rec)
        secs = max(0.0, t - rec.since)
        events.emit(
            "gate_recovery",
            f"chaos {rec.action}: every gate back to pass {secs:.1f}s after it ended",
            "info",
            action=rec.action,
            chaos_start=rec.started,
            chaos_end=rec.since,
            recovered=True,
            seconds=round(secs, 3),
        )
