"""Per-call checks against hand-made call timelines: overlap, values handed over late, drops, windows."""

from __future__ import annotations

import numpy as np

from soakwatch.config.gates import GateSpec
from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder, ResultBatch
from soakwatch.gates.kinds import Frame, Observation
from soakwatch.gates.rules import compile_rule

MS = 1_000_000


class Harness:
    """A recorder, one judge, and batches of (call, start ms, recorded ms, value)."""

    def __init__(self, condition: str, window: str | None = None) -> None:
        self.rec = Recorder(None, EventLog(None))
        spec = GateSpec(name="g", metric="record[seq]", condition=condition, window=window)
        self.rule = compile_rule(spec, None)
        self.judge = self.rule.judge()
        self.t = 0.0

    def tick(self, *calls: tuple[int, int, int, object]) -> Observation:
        records = [(i, s * MS, r * MS, "seq", v) for i, s, r, v in calls]
        lat = np.ones(len(calls), dtype=np.int64)
        self.rec.add(ResultBatch(lat, [], None, ([], records, 0, [])))
        self.rec.tick_begin()
        self.t += 0.5
        w = self.rule.window
        return self.judge.observe(Frame(self.t, self.rec, {w: self.t - w.size} if w.kind == "time" else {}))


def test_sequential_calls_fail_on_a_repeat_and_name_it() -> None:
    h = Harness("strictly_increasing")
    assert not h.tick((0, 0, 1, 1), (1, 2, 3, 2)).breached
    obs = h.tick((2, 4, 5, 2), (3, 6, 7, 3))
    assert obs.breached and obs.value == 1 and obs.samples == 4
    assert obs.detail == "call 2: seq 2 not above 2 of call 1"


def test_overlapping_calls_are_not_ordered() -> None:
    h = Harness("strictly_increasing")
    # calls 0 and 1 overlap (1 started before 0 recorded): 1 may see the older value
    assert not h.tick((0, 0, 5, 2), (1, 1, 4, 1)).breached
    # call 2 started after both recorded: it must be above both
    obs = h.tick((2, 6, 7, 2))
    assert obs.breached and obs.detail == "call 2: seq 2 not above 2 of call 0"


def test_a_value_handed_over_late_is_still_compared() -> None:
    h = Harness("never_decreasing")
    assert not h.tick((5, 10, 11, 3)).breached  # slot B's call 5 first
    # slot A's call 4 recorded 9 before call 5 started, but its batch arrives a tick later
    obs = h.tick((4, 8, 9, 9))
    assert obs.breached and obs.detail == "call 5: seq 3 below 9 of call 4"


def test_unique_and_missing_values() -> None:
    h = Harness("unique")
    obs = h.tick((0, 0, 1, "a"), (1, 2, 3, "b"), (2, 4, 5, "a"), (3, 6, 7, None))
    assert obs.value == 2
    assert obs.detail.startswith("call 2: seq = 'a' already recorded by call 0")


def test_a_time_window_forgets_old_violations_and_the_run_window_does_not() -> None:
    for window, after in (("1s", False), ("run", True)):
        h = Harness("strictly_increasing", window)
        assert h.tick((0, 0, 1, 1), (1, 2, 3, 1)).breached
        h.tick((2, 4, 5, 2))
        h.tick((3, 6, 7, 3))
        assert h.tick((4, 8, 9, 4)).breached is after, window
