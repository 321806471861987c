"""A burst of events between two snapshots reaches the views whole (up to what memory keeps)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from soakwatch.core.events import RECENT_EVENTS, EventLog
from soakwatch.core.snapshot_builder import SnapshotBuilder


def test_a_burst_of_300_events_in_one_refresh_is_carried_whole(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    stage = cast(Any, SimpleNamespace(events=log))
    builder = SnapshotBuilder()
    log.emit("operator", "before")
    assert [e.message for e in builder._new_events(stage)] == ["before"]
    for i in range(300):  # more than one old page (100) of events in one refresh
        log.emit("operator", f"burst {i}")
    got = builder._new_events(stage)
    assert [e.message for e in got] == [f"burst {i}" for i in range(300)]
    assert builder._new_events(stage) == []
    log.close()
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 301 < RECENT_EVENTS
