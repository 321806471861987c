"""A gate evaluator on a real Recorder with a hand-driven clock: synthetic series, no stage, no disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from soakwatch.config.profile import Profile
from soakwatch.core.events import EventLog
from soakwatch.core.plugins import StageContext
from soakwatch.core.recorder import ErrorRecord, Recorder, ResultBatch
from soakwatch.gates import build_gates
from soakwatch.gates.evaluator import GateEvaluator, GateState

#: a profile that makes the collector series used by the tests known metrics
PROFILE_BASE: dict[str, Any] = {
    "name": "t",
    "calls": 1000,
    "watch": {"files": ["state/pra_log.json", "state/*.log"], "unchanged": ["dag/**"]},
    "reports": [
        {
            "name": "node1",
            "path": "r",
            "fields": {"height": "h", "head": "hd", "ok": "ok", "failed": "f", "checks": "c"},
        }
    ],
}


class Clock(EventLog):
    """An event log whose clock the test moves."""

    def __init__(self) -> None:
        super().__init__(None)
        self.now = 0.0

    def elapsed(self) -> float:
        return self.now


class Harness:
    """Ticks a recorder and the gate evaluator by hand."""

    def __init__(self, gates: list[dict[str, Any]], **profile: Any) -> None:
        self.profile = Profile.model_validate({**PROFILE_BASE, "gates": gates, **profile})
        self.events = Clock()
        self.rec = Recorder(None, self.events)
        self.aborts: list[tuple[str, str]] = []
        plugin = build_gates(self.profile)
        assert isinstance(plugin, GateEvaluator)
        self.plugin = plugin
        self.ctx = StageContext(
            self.profile,
            Path("."),
            Path("."),
            self.rec,
            self.events,
            lambda: {},
            0,
            lambda g, r: self.aborts.append((g, r)),
            lambda: self.rec.calls,
        )
        plugin.prepare(self.ctx)
        plugin.start()
        self.stopped = False

    def calls(self, n: int, errors: int = 0, lat_ms: float = 1.0, kind: str = "ValueError") -> None:
        """Hand over ``n`` calls, ``errors`` of them failed with ``kind``, all taking ``lat_ms``."""
        lat = np.full(n, int(lat_ms * 1_000_000), dtype=np.int64)
        errs = [ErrorRecord(kind, "boom", i) for i in range(errors)]
        self.rec.add(ResultBatch(lat, errs))

    def tick(self, dt: float = 0.5, **values: float) -> None:
        self.events.now += dt
        for k, v in values.items():
            self.rec.set(k, v)
        self.rec.tick()
        self.plugin.tick(self.rec.last_tick_t)

    def set(self, name: str, value: float) -> None:
        self.rec.set(name, value)

    def gate(self, name: str) -> GateState:
        return next(g for g in self.plugin.gates if g.name == name)

    def status(self, name: str) -> str:
        return self.gate(name).status

    def emit(self, kind: str, **fields: Any) -> None:
        self.events.emit(kind, kind, "info", **fields)

    def stop(self) -> dict[str, dict[str, Any]]:
        """Stop the evaluator; the gate_final events by gate."""
        if not self.stopped:
            self.plugin.stop()
            self.stopped = True
        return {str(e.data["gate"]): e.data for e in self.events.recent if e.kind == "gate_final"}

    def final(self, name: str) -> str:
        return str(self.stop()[name]["status"])

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [{"t": e.t, "msg": e.message, **e.data} for e in self.events.recent if e.kind == kind]
