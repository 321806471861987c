"""Typed events (issue 10): one record per kind, one writer (EventLog), one reader (read_records).

``tests/fixtures/events_before_typed.jsonl`` holds lines written by soakwatch before the
records existed (three of each of 26 kinds, from a demo run with chaos and gates, a
two-node topology with chaos, a process run with a crash and a hang, an HTTP run aborted
by a gate with a failing scrape, and a run with operator commands): the kind strings and
field names other tools read must come back exactly.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from soakwatch.core.event_codec import decode, encode, read_records
from soakwatch.core.event_types import (
    EVENT_TYPES,
    CallError,
    Event,
    GateFinal,
    ListenerError,
    NodeExit,
    Operator,
    StageStart,
    UnknownEvent,
    WorkerCrash,
)
from soakwatch.core.events import EventLog, read_events

FIXTURE = Path(__file__).parent / "fixtures" / "events_before_typed.jsonl"


def _lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def test_the_fixture_covers_the_kinds_the_stage_writes() -> None:
    kinds = {obj["kind"] for obj in _lines()}
    assert len(kinds) == 26 and kinds <= set(EVENT_TYPES)


@pytest.mark.parametrize("obj", _lines(), ids=lambda o: f"{o['kind']}-{o['seq']}")
def test_an_old_line_round_trips(obj: dict[str, Any]) -> None:
    ev = decode(obj)
    assert type(ev) is EVENT_TYPES[obj["kind"]] and ev.kind == obj["kind"]
    out = json.loads(json.dumps(encode(ev), default=str))
    # every key and value comes back under its own name...
    assert {k: out[k] for k in obj} == obj
    # ...and the only keys added are the kind's declared fields, at their defaults
    declared = dict(type(ev).own_fields())
    added = set(out) - set(obj)
    assert added <= set(declared.values())
    blank = type(ev)()
    assert all(out[j] == getattr(blank, n) for n, j in type(ev).own_fields() if j in added)
    # every field the stage wrote has the declared type (nothing fell back to extra)
    assert not set(ev.extra) & set(declared.values()), ev.extra
    assert decode(out) == ev


def test_typed_fields_read_back() -> None:
    records = read_records(FIXTURE)
    start = next(e for e in records if isinstance(e, StageStart))
    assert start.pid is not None and start.target
    crash = next(e for e in records if isinstance(e, WorkerCrash))
    assert crash.slot is not None and crash.exitcode is not None
    final = next(e for e in records if isinstance(e, GateFinal))
    assert final.gate and final.status and "for" in final.data
    exits = [e for e in records if isinstance(e, NodeExit)]
    assert any(e.signal == "SIGKILL" for e in exits)
    ops = [(e.action, e.source) for e in records if isinstance(e, Operator)]
    assert ("pause", "socket") in ops or any(a == "pause" for a, _ in ops)
    err = next(e for e in records if isinstance(e, CallError))
    assert err.error_kind and err.message.startswith(err.error_kind)


def test_torn_garbage_unknown_and_ill_typed_lines_never_crash(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        '{"seq": 1, "t": 0.1, "ts": "x", "kind": "stage_start", "level": "info", "msg": "go", "pid": 42}',
        "not json at all",
        "[1, 2, 3]",
        '{"seq": 2, "t": "soon", "kind": "from_the_future", "level": "loud", "msg": 5, "shiny": [1]}',
        '{"seq": 3, "t": 1.5, "kind": "worker_crash", "msg": "x", "slot": "zero", "exitcode": 1.0}',
        '{"seq": 4, "t": 2.0, "kind": "gate_fi',  # torn: the runner was killed mid-write
    ]
    path.write_text("\n".join(lines))
    recs = read_records(path)
    assert [e.seq for e in recs] == [1, 2, 3]
    start, future, crash = recs
    assert isinstance(start, StageStart) and start.pid == 42 and start.message == "go"
    assert isinstance(future, UnknownEvent) and future.kind == "from_the_future"
    assert future.t == 0.0 and future.level == "info" and future.data == {"shiny": [1]}
    assert encode(future)["kind"] == "from_the_future" and encode(future)["shiny"] == [1]
    assert isinstance(crash, WorkerCrash) and crash.slot is None and crash.exitcode == 1
    assert crash.extra == {"slot": "zero"} and encode(crash)["slot"] == "zero"  # kept as it came
    assert read_records(tmp_path / "missing.jsonl") == []


def test_emit_writes_the_record_of_its_kind_and_record_takes_a_typed_one(tmp_path: Path) -> None:
    seen: list[Event] = []
    log = EventLog(tmp_path / "events.jsonl")
    log.subscribe(seen.append)
    a = log.emit("worker_crash", "worker 1 died", "error", slot=1, exitcode=-9, log="w.log")
    b = log.emit("brand_new_kind", "from another branch", "warn", answer=42)
    c = log.record(Operator(level="info", message="pause (keys): ok", action="pause", source="keys", args={}))
    log.close()
    assert isinstance(a, WorkerCrash) and (a.slot, a.exitcode, a.log) == (1, -9, "w.log")
    assert isinstance(b, UnknownEvent) and b.kind == "brand_new_kind" and b.data == {"answer": 42}
    assert isinstance(c, Operator) and c.seq == 3 and c.ts
    assert seen == [a, b, c]
    raw = read_events(tmp_path / "events.jsonl")
    assert [r["kind"] for r in raw] == ["worker_crash", "brand_new_kind", "operator"]
    assert raw[0]["slot"] == 1 and raw[0]["exitcode"] == -9 and raw[0]["msg"] == "worker 1 died"
    assert raw[1]["answer"] == 42 and raw[2]["action"] == "pause" and raw[2]["source"] == "keys"
    # written as they were made (times to the millisecond, as events.jsonl keeps them)
    assert read_records(tmp_path / "events.jsonl") == [dataclasses.replace(e, t=round(e.t, 3)) for e in (a, b, c)]


def test_a_listener_that_raises_is_an_event_not_a_crash(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")

    def bad(ev: Event) -> None:
        raise RuntimeError("boom")

    log.subscribe(bad)
    log.emit("stage_start", "go")
    log.close()
    recs = read_records(tmp_path / "events.jsonl")
    assert [type(e) for e in recs] == [StageStart, ListenerError]
    assert recs[1].message == "RuntimeError: boom" and recs[1].level == "error"


def test_docs_list_every_kind_with_its_fields() -> None:
    rows = {
        line.split("`")[1]: line
        for line in (Path(__file__).parent.parent / "docs" / "events.md").read_text().splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == set(EVENT_TYPES)
    for kind, cls in EVENT_TYPES.items():
        assert f"`{cls.__name__}`" in rows[kind]
        assert all(f"`{j}` (" in rows[kind] for _, j in cls.own_fields()), kind


def test_memory_warmup_and_collector_health_are_typed_records(tmp_path: Path) -> None:
    from soakwatch.core.event_types import CollectorHealth, MemoryWarmup

    log = EventLog(tmp_path / "events.jsonl")
    log.emit("memory_warmup", "memory warm-up over at 2.0s (a fifth of the stage)", "info", warmup_s=2.0, reason="x")
    src = {"collector": "scrape", "source": "m endpoint", "status": "failing", "failures": 3, "samples": 0}
    log.emit("collector_health", "scrape: m endpoint failing", "warn", collector="scrape", sources=[src])
    log.close()
    warm, health = read_records(tmp_path / "events.jsonl")
    assert isinstance(warm, MemoryWarmup) and (warm.warmup_s, warm.reason) == (2.0, "x") and not warm.extra
    assert isinstance(health, CollectorHealth) and health.collector == "scrape" and health.sources == [src]
    assert not health.extra
