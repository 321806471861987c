"""The runners in-process (the CLI end-to-end tests cover the same through real processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.targets.process_runner import ProcessRunner
from soakwatch.targets.runner import InlineRunner, Plan, Runner
from soakwatch.targets.spec import load_cases, parse_target


def _run(
    cls: type[Runner], root: Path, spec: str, plan: Plan, cases: bool = True, barrier: list[int] | None = None
) -> Recorder:
    rec = Recorder(None, EventLog(None), open_model=plan.rate is not None)
    runner = cls(
        plan,
        rec,
        parse_target(spec),
        root,
        load_cases(root / "cases.jsonl") if cases else None,
        barrier.append if barrier is not None else None,
    )
    runner.prepare()
    runner.run()
    rec.tick()
    return rec


@pytest.mark.parametrize("cls", [InlineRunner, ProcessRunner])
@pytest.mark.parametrize("concurrency", [1, 3])
def test_counts_are_exact(sandbox: Path, cls: type[Runner], concurrency: int) -> None:
    rec = _run(cls, sandbox, "sw_targets:flaky", Plan(calls=1000, duration=None, concurrency=concurrency))
    assert (rec.calls, rec.errors, rec.ok) == (1000, 10, 990)


@pytest.mark.parametrize("cls", [InlineRunner, ProcessRunner])
def test_barriers_every_n_calls(sandbox: Path, cls: type[Runner]) -> None:
    at: list[int] = []
    _run(
        cls,
        sandbox,
        "sw_targets:noop",
        Plan(calls=450, duration=None, concurrency=2, barrier_every=100),
        cases=False,
        barrier=at,
    )
    assert at == [100, 200, 300, 400, 450]


def test_duration_stage_ends(sandbox: Path) -> None:
    rec = _run(InlineRunner, sandbox, "sw_targets:slow", Plan(calls=None, duration=0.3))
    assert rec.calls > 5


def test_inline_sync_timeout_is_counted(sandbox: Path) -> None:
    rec = _run(InlineRunner, sandbox, "sw_targets:slow", Plan(calls=3, duration=None, timeout=0.001), cases=False)
    assert rec.timeouts == 3


def test_async_timeout_inline(sandbox: Path) -> None:
    rec = _run(
        InlineRunner,
        sandbox,
        "sw_targets:async_hang",
        Plan(calls=2, duration=None, concurrency=2, timeout=0.05),
        cases=False,
    )
    assert rec.timeouts == 2 and rec.kinds["Timeout"].count == 2


def test_a_worker_killed_between_chunks_fails_no_call(sandbox: Path) -> None:
    import os
    import signal

    rec = Recorder(None, EventLog(None))
    runner = ProcessRunner(Plan(calls=200, duration=None), rec, parse_target("sw_targets:noop"), sandbox, None)
    runner.prepare()
    pid = runner.pids()["worker-0"]
    os.kill(pid, signal.SIGKILL)  # idle: it has not been given a chunk yet
    runner.run()
    rec.tick()
    assert rec.calls == 200 and rec.errors == 0
    crash = [e for e in rec.events.recent if e.kind == "worker_crash"]
    assert crash and "between calls" in crash[0].message
