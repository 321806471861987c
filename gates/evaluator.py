"""The gate evaluator: one plugin that judges every rule on every tick.

Gate states (what a view shows)::

    pending            before ``delay`` has passed
    insufficient_data  judged never yet: fewer samples than ``min_samples``
    pass ─► warn | fail   breached ``for`` consecutive evaluations (severity; strict makes warn fail)
    warn | fail ─► pass   held ``for`` consecutive evaluations again ("recovered")
    exempt             inside a chaos window (chaos_start .. chaos_end + exempt_during_chaos)

The final status of a gate is the worst it reached (fail > warn > pass), or
``insufficient_data`` when it was never judged. Transitions to and from warn, fail and
exempt are ``gate`` events; ``gate_final`` events at the end carry everything the
reports need, so summary, failures.md and junit.xml are rebuilt from the run dir alone.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from soakwatch.config.profile import Profile
from soakwatch.core.event_types import ChaosEnd, ChaosStart
from soakwatch.core.events import Event, Level
from soakwatch.core.format import fmt_value
from soakwatch.core.plugins import Plugin, StageContext, Verdict
from soakwatch.core.snapshot import GateView
from soakwatch.gates._chaos_recovery import Recovery, check_recoveries, drain_chaos
from soakwatch.gates._cutoffs import WindowCutoffs
from soakwatch.gates._gate_state import GateState
from soakwatch.gates._replay import replay_gates
from soakwatch.gates._stats import slope
from soakwatch.gates._unjudged import not_judged_caveat, why_not_judged
from soakwatch.gates._view import gate_check, gate_subject, gate_unit, gate_window_s
from soakwatch.gates.kinds import UNEXPECTED_EXIT_KINDS, Alive, Frame, Latency, Observation
from soakwatch.gates.parse import Window
from soakwatch.gates.rules import Rule
from soakwatch.targets.spec import parse_target

__all__ = ["GateEvaluator", "GateState"]

#: statuses that are alerts: transitions to and from them are events
ALERTS = frozenset({"warn", "fail", "exempt"})
RANK = {"pass": 0, "warn": 1, "fail": 2}


class GateEvaluator(Plugin):
    """Judges the profile's gates on every tick; aborts, warns, and leaves the evidence."""

    name = "gates"
    judges = True

    def __init__(self, profile: Profile, rules: list[Rule]) -> None:
        self.profile = profile
        self.rules = rules
        self.gates: list[GateState] = []
        for r in rules:
            sev = "fail" if profile.strict else r.spec.severity
            self.gates.append(GateState(r, r.judge(), sev))
        self._window_cutoffs = WindowCutoffs([g.rule.window for g in self.gates])
        self._needs_latency = any(isinstance(g.judge, Latency) and g.rule.window.kind != "run" for g in self.gates)
        self._lat_prev: npt.NDArray[np.int64] | None = None
        self._inbox: deque[ChaosStart | ChaosEnd] = deque()
        self._recoveries: list[Recovery] = []
        self._chaos_open: dict[str, Recovery] = {}
        self._aborted = False
        self._finished = False
        #: the final evaluation is running: gates judged "at end" are judged now
        self._ending = False
        self._last_t = 0.0

    # ---------------------------------------------------------------- hooks
    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        from soakwatch.gates.compile import check_rules

        check_rules(self.profile)
        ctx.events.subscribe(self._on_event)
        for g in self.gates:
            g.judge.track(ctx.recorder)
            ctx.recorder.declare(f"gate_value[{g.name}]")
            ctx.recorder.declare(f"gate_margin[{g.name}]")

    def start(self) -> None:
        self.ctx.events.emit(
            "gate_rules",
            f"{len(self.gates)} gates: " + "; ".join(f"{g.name} ({g.rule.text})" for g in self.gates),
            "info",
            gates=[self._describe(g) for g in self.gates],
        )

    def _describe(self, g: GateState) -> dict[str, Any]:
        s = g.rule.spec
        return {
            "gate": g.name,
            "metric": g.rule.metric.text,
            "condition": g.rule.text,
            "severity": g.severity,
            "abort": s.abort,
            "window": g.rule.window.text,
            "delay": s.delay,
            "min_samples": g.rule.min_samples,
            "for": s.for_,
            "exempt_during_chaos": s.exempt_during_chaos,
        }

    def _on_event(self, ev: Event) -> None:
        # called from whichever thread emitted; only queue here, the stage thread does the work
        if isinstance(ev, ChaosStart | ChaosEnd):
            self._inbox.append(ev)
        elif ev.kind in UNEXPECTED_EXIT_KINDS and not ev.data.get("expected"):
            for g in self.gates:
                if isinstance(g.judge, Alive):
                    g.judge.on_exit(ev.t, ev.message)

    def tick(self, t: float) -> None:
        if self._finished:
            return
        self._last_t = t
        drain_chaos(self._inbox, self._chaos_open, self._recoveries, self.gates)
        frame = Frame(t, self.ctx.recorder, self._cutoffs(t), self._latency_new())
        self._census()
        for g in self.gates:
            self._evaluate(g, frame)
        check_recoveries(self._recoveries, self.gates, t, self.ctx.events)

    def _census(self) -> None:
        """Processes alive / expected, for the ``processes alive`` gates (workers and nodes)."""
        alives = [g.judge for g in self.gates if isinstance(g.judge, Alive)]
        if not alives:
            return
        p = self.profile
        python = p.target is not None and parse_target(p.target).kind == "python"
        workers = p.concurrency if p.isolation == "process" and python else 0
        expected = workers + len(p.nodes)
        alive = len(self.ctx.target_pids()) + len(self.ctx.node_pids())
        for judge in alives:
            judge.census = (alive, expected)

    def view(self) -> dict[str, Any]:
        return {"gates": [self._view(g) for g in self.gates]}

    def _view(self, g: GateState) -> GateView:
        """The gate as a view shows it: live while the stage runs; once it stopped, the final status
        with the worst observation behind a warn or a fail (what the verdict counts)."""
        status, obs, changed = g.status, g.obs, g.changed_at
        if self._finished:
            status = self.final_status(g)
            if status in ("warn", "fail") and g.worst_obs is not None:
                obs, changed = g.worst_obs, g.worst_t
        return GateView(
            name=g.name,
            metric=g.rule.metric.text,
            condition=g.rule.text,
            severity=g.severity,
            status=status,
            observed=g.judge.shown or (obs.value if obs is not None else None),
            margin=obs.margin if obs is not None else None,
            changed_at=changed,
            abort=g.rule.spec.abort,
            forecast_s=g.forecast,
            subject=gate_subject(g.rule.metric),
            check=gate_check(g.rule),
            unit=gate_unit(g.rule, self.ctx.recorder),
            window_s=gate_window_s(g.rule),
            why=self._live_why(g),
        )

    replay = staticmethod(replay_gates)  # the recorded counterpart of view()

    def stop(self) -> None:
        if self._finished:
            return
        # one last evaluation: samples set after the last tick (a final snapshot, the collectors'
        # last scan) are judged too, never lost between a tick and the end
        t = self.ctx.events.elapsed()
        drain_chaos(self._inbox, self._chaos_open, self._recoveries, self.gates)
        self._ending = True
        frame = Frame(t, self.ctx.recorder, self._cutoffs(t, final=True), None)
        for g in self.gates:
            self._evaluate(g, frame)
        self._last_t = t
        self._finished = True
        ev = self.ctx.events
        for rec in self._recoveries:
            for name in sorted(rec.hit - rec.back):
                ev.emit(
                    "gate_recovery",
                    f"chaos {rec.action}: gate {name} not back to pass by the end",
                    "warn",
                    action=rec.action,
                    gate=name,
                    chaos_start=rec.started,
                    chaos_end=rec.since,
                    recovered=False,
                    seconds=None,
                )
            ev.emit(
                "gate_recovery",
                f"chaos {rec.action}: gates not all back to pass by the end",
                "warn",
                action=rec.action,
                chaos_start=rec.started,
                chaos_end=rec.since,
                recovered=False,
                seconds=None,
            )
        self._recoveries.clear()
        for g in self.gates:
            final = self.final_status(g)
            obs = g.worst_obs if final in ("warn", "fail") and g.worst_obs is not None else g.obs
            level: Level = "error" if final == "fail" else "warn" if final in ("warn", "insufficient_data") else "info"
            value = obs.value if obs is not None else None
            ev.emit(
                "gate_final",
                f"gate {g.name}: {final} ({g.rule.text}, observed {fmt_value(value)})",
                level,
                **self._describe(g),
                status=final,
                observed=value,
                detail=obs.detail if obs is not None else "",
                observed_end=g.obs.value if g.obs is not None else None,
                samples=g.obs.samples if g.obs is not None else 0,
                changed_at=g.worst_t if final in ("warn", "fail") else g.first_judged_at,
                breaches=g.breaches,
                exempted=[[round(s, 3), round(min(e, self._last_t), 3), a] for s, e, a in g.exempt],
                insufficient_policy=self.profile.insufficient_data,
                why=self.why(g) if final == "insufficient_data" else "",
                shown=g.judge.shown,
            )

    def verdict(self) -> Verdict:
        reasons: list[str] = []
        unjudged: list[str] = []
        for g in self.gates:
            final = self.final_status(g)
            if final == "fail":
                obs = g.worst_obs
                shown = fmt_value(obs.value if obs else None)
                reasons.append(f"gate {g.name}: {g.rule.text} (observed {shown})")
            elif final == "insufficient_data":
                # the policy never raises a warn gate: an unjudged warn gate stays a caveat
                if self.profile.insufficient_data == "fail" and g.severity == "fail":
                    reasons.append(f"gate {g.name}: insufficient data: {self.why(g)}")
                else:
                    unjudged.append(g.name)
        caveats = (not_judged_caveat(unjudged),) if unjudged else ()
        return Verdict(failed=bool(reasons), reasons=tuple(reasons), caveats=caveats)

    def _live_why(self, g: GateState) -> str:
        if g.status == "pending" and g.rule.spec.at_end:
            return "judged at the end of the stage"
        if g.status == "pending":
            return f"waiting for its delay ({g.rule.spec.delay:g}s)"
        return self.why(g) if g.status == "insufficient_data" else ""

    def why(self, g: GateState) -> str:
        """Why ``g`` has not been judged (yet): delay, no samples, or too few."""
        return why_not_judged(g.rule, self.profile, g.reached_delay, g.had_value, g.most_samples)

    @staticmethod
    def final_status(g: GateState) -> str:
        if g.worst in ("warn", "fail"):
            return g.worst
        return "pass" if g.first_judged_at is not None else "insufficient_data"

    # ---------------------------------------------------------------- evaluation
    def _cutoffs(self, t: float, final: bool = False) -> dict[Window, float]:
        return self._window_cutoffs.cutoffs(t, self.ctx.recorder, final)

    def _latency_new(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]] | None:
        if not self._needs_latency:
            return None
        cur = self.ctx.recorder.hist.counts.astype(np.int64)
        prev = self._lat_prev
        self._lat_prev = cur
        diff = cur if prev is None else cur - prev
        idx = np.flatnonzero(diff)
        return idx, diff[idx]

    def _evaluate(self, g: GateState, frame: Frame) -> None:
        t = frame.t
        spec = g.rule.spec
        if t < spec.delay:
            # samples before the delay are dropped, not judged later (whole-run windows included)
            g.judge.discard(frame)
            self._publish(g, Observation(None, 0, False))
            return
        obs = g.judge.observe(frame)
        g.obs = obs
        self._publish(g, obs)
        if spec.at_end and not self._ending:
            return  # folded on every tick, judged once on the values at the end (stop)
        g.reached_delay = True
        g.had_value = g.had_value or obs.value is not None
        g.most_samples = max(g.most_samples, obs.samples if obs.value is not None else 0)
        if obs.value is None or obs.samples < g.rule.min_samples:
            g.raw = "insufficient"
        else:
            g.raw = "breach" if obs.breached else "ok"
        self._forecast(g, t, obs)
        if g.exempt_at(t):
            # judged (it had the data) but not held to its limit: it cannot warn or fail here
            if g.raw != "insufficient" and g.first_judged_at is None:
                g.first_judged_at = t
            g.breach_streak = g.ok_streak = 0
            self._set_status(g, "exempt", t, obs)
            return
        if g.raw == "insufficient":
            self._set_status(g, g.judged or "insufficient_data", t, obs)
            return
        if g.judged is None:
            g.judged = "pass"
            if g.first_judged_at is None:
                g.first_judged_at = t
        if g.raw == "breach":
            g.breach_streak += 1
            g.ok_streak = 0
            if g.breach_streak >= (1 if spec.at_end else spec.for_):
                g.judged = g.severity
        else:
            g.ok_streak += 1
            g.breach_streak = 0
            if g.ok_streak >= spec.for_:
                g.judged = "pass"
        if g.judged in ("warn", "fail"):
            g.breaches += 1
            if RANK[g.judged] > RANK[g.worst]:
                g.worst, g.worst_t, g.worst_obs = g.judged, t, obs
        self._set_status(g, g.judged, t, obs)
        if g.judged == "fail" and spec.abort and not self._aborted:
            self._aborted = True
            self.ctx.abort(g.name, f"{g.rule.text}: observed {fmt_value(obs.value)}" + _detail(obs))

    def _publish(self, g: GateState, obs: Observation) -> None:
        rec = self.ctx.recorder
        rec.set(f"gate_value[{g.name}]", obs.value if obs.value is not None else math.nan)
        rec.set(f"gate_margin[{g.name}]", obs.margin if obs.margin is not None else math.nan)

    def _forecast(self, g: GateState, t: float, obs: Observation) -> None:
        g.forecast = None
        if obs.breached or obs.value is None or obs.margin is None:
            return
        if obs.forecast is not None:
            g.forecast = obs.forecast
            return
        op = g.rule.condition.op
        if not g.judge.trend or op not in ("<", "<=", ">", ">="):
            return
        g.trend.append((t, obs.value))
        s = slope(g.trend)
        if s is None:
            return
        towards = s if op in ("<", "<=") else -s
        if towards > 0:
            g.forecast = obs.margin / towards

    def _set_status(self, g: GateState, status: str, t: float, obs: Observation) -> None:
        prev = g.status
        if status == prev:
            return
        g.status = status
        g.changed_at = t
        if status not in ALERTS and prev not in ALERTS:
            return
        level: Level = "error" if status == "fail" else "warn" if status == "warn" else "info"
        what = "recovered" if prev in ("warn", "fail") and status == "pass" else f"{prev} → {status}"
        self.ctx.events.emit(
            "gate",
            f"gate {g.name}: {what}: observed {fmt_value(obs.value)} ({g.rule.text})" + _detail(obs),
            level,
            gate=g.name,
            status=status,
            previous=prev,
            observed=obs.value,
            margin=obs.margin,
            condition=g.rule.text,
            detail=obs.detail,
        )


def _detail(obs: Observation) -> str:
    return f" [{obs.detail}]" if obs.detail else ""
