"""A real StageContext (recorder, event log, run dir) for driving one collector in a test."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from soakwatch.config.profile import validate_profile
from soakwatch.core.events import EventLog
from soakwatch.core.plugins import StageContext
from soakwatch.core.recorder import Recorder


def make_ctx(tmp_path: Path, root: Path | None = None, **profile: Any) -> StageContext:
    """A context whose recorder and event log write into ``tmp_path/run``; close with :func:`close_ctx`."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    root = root or tmp_path / "root"
    root.mkdir(exist_ok=True)
    events = EventLog(run_dir / "events.jsonl")
    prof = validate_profile({"name": "t", "calls": 1, **profile}, "test")
    calls = [0]
    return StageContext(
        prof,
        root,
        run_dir,
        Recorder(run_dir, events),
        events,
        lambda: {},
        os.getpid(),
        lambda gate, reason: None,
        lambda: calls[0],
    )


def wait_for(pred: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll a predicate (not a fixed sleep) until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def events_of(ctx: StageContext, kind: str) -> list[dict[str, Any]]:
    ctx.events.flush()
    lines = (ctx.run_dir / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == kind]


def close_ctx(ctx: StageContext) -> None:
    ctx.recorder.close()
    ctx.events.close()


CtxFactory = Callable[..., StageContext]


def contexts(tmp_path: Path) -> Iterator[CtxFactory]:
    """For a fixture: ``make(sub="", root=None, **profile)``, contexts closed at the end of the test."""
    made: list[StageContext] = []

    def make(sub: str = "", root: Path | None = None, **profile: Any) -> StageContext:
        base = tmp_path / sub if sub else tmp_path
        base.mkdir(exist_ok=True)
        ctx = make_ctx(base, root, **profile)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        close_ctx(ctx)
