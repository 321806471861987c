"""The control socket in a real stage: SocketSource, commands through Stage.command, the final snapshot."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from soakwatch.config.profile import load_profile
from soakwatch.control import wire as wire
from soakwatch.control.client import ControlClient, SocketSource, wait_for_control
from soakwatch.core.events import read_events
from soakwatch.core.snapshot import Snapshot
from soakwatch.core.source import CommandError
from soakwatch.stage import Stage
from tests.control_raw import raw_connect
from tests.helpers import Running

WAIT = 30.0

pytestmark = pytest.mark.usefixtures("control_transport")  # every test over the Unix socket and over tcp


@pytest.fixture
def start(sandbox: Path, tmp_path: Path) -> Iterator[object]:
    started: list[Running] = []

    def _start(calls: int = 200, rate: float | None = 100.0, tick: float = 0.1) -> Running:
        profile = load_profile(
            None,
            {"target": "sw_targets:noop", "root": str(sandbox), "calls": calls, "rate": rate, "isolation": "inline"},
            [f"tick={tick}"],
        )
        r = Running(Stage(profile, out_dir=tmp_path / "runs", cwd=sandbox))
        started.append(r)
        return r

    yield _start
    for r in started:
        if r.thread.is_alive():
            r.stage.command("abort", source="test")
            r.thread.join(WAIT)


@pytest.mark.parametrize("control_transport", ["unix"], indirect=True)  # the Unix socket itself
def test_socket_in_the_run_dir_is_owner_only_and_gone_at_the_end(start) -> None:  # type: ignore[no-untyped-def]
    r = start(calls=100)
    path = wait_for_control(r.run_dir, WAIT)
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.getuid()
    assert r.join() == 0
    assert not wire.socket_address(r.run_dir).exists()
    with pytest.raises(OSError):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
        finally:
            s.close()


async def test_socket_source_streams_snapshots_and_sends_commands(start) -> None:  # type: ignore[no-untyped-def]
    r = start(calls=300, rate=100.0)
    source = SocketSource(r.run_dir, connect_timeout=WAIT)
    seen: list[Snapshot] = []
    answers: list[str] = []
    async for s in source.snapshots():
        seen.append(s)
        if len(seen) == 2:
            answers.append(await source.command("pause"))
            with pytest.raises(CommandError, match="unknown command"):
                await source.command("no_such_command")
            answers.append(await source.command("note", {"action": "screenshot", "path": "/x/shot.svg"}))
            answers.append(await source.command("resume"))
    await source.close()
    assert answers == ["pause: ok", "noted: screenshot", "resume: ok"]
    final = seen[-1]
    assert final.finished and final.state == "PASSED" and final.exit_code == 0 and final.calls == 300
    assert final.reports, "the final snapshot names the reports"
    assert [s.seq for s in seen] == sorted({s.seq for s in seen})
    assert r.join() == 0
    ops = [(e["action"], e["source"]) for e in read_events(r.run_dir / "events.jsonl") if e["kind"] == "operator"]
    assert ops == [("pause", "socket"), ("screenshot", "socket"), ("resume", "socket")]
    shot = next(e for e in read_events(r.run_dir / "events.jsonl") if e.get("action") == "screenshot")
    assert shot["args"] == {"action": "screenshot", "path": "/x/shot.svg"}


def test_abort_over_the_socket_ends_the_stage_with_exit_3(start) -> None:  # type: ignore[no-untyped-def]
    r = start(calls=100_000, rate=200.0)
    with ControlClient(r.run_dir, timeout=WAIT) as c:
        c.request("subscribe")
        assert c.next_snapshot(WAIT) is not None
        c.send_line(b'{"cmd": "abort", "args": 7}')  # malformed: refused, the stage goes on
        assert c.read_reply()["ok"] is False
        assert r.stage.state == "RUNNING"
        assert c.command("abort") == "abort: ok"
        final = None
        while (s := c.next_snapshot(WAIT)) is not None:
            final = s
    assert final is not None and final.state == "ABORTED" and final.exit_code == 3
    assert r.join() == 3


def test_a_slow_client_does_not_hold_the_stage(start) -> None:  # type: ignore[no-untyped-def]
    """A subscriber that never reads: the stage still makes every call and ends; a reading client gets the end."""
    r = start(calls=2000, rate=500.0, tick=0.02)
    control = None
    wait_for_control(r.run_dir, WAIT)
    with raw_connect(r.run_dir, rcvbuf=2048) as slow:
        slow.sendall(b'{"cmd": "subscribe"}\n')
        with ControlClient(r.run_dir, timeout=WAIT) as fast:
            fast.request("subscribe")
            final = None
            while (s := fast.next_snapshot(WAIT)) is not None:
                final = s
                control = control or r.stage._control
    assert r.join() == 0
    assert control is not None
    assert control.dropped() > 0, "the slow client never fell behind: the test proves nothing"
    assert final is not None and final.exit_code == 0 and final.calls == 2000


async def test_source_of_a_stage_that_never_started_ends_quietly(tmp_path: Path) -> None:
    source = SocketSource(tmp_path, connect_timeout=0.2)
    assert [s async for s in source.snapshots()] == []
    with pytest.raises(CommandError, match=r"the stage is gone|cannot reach"):
        await source.command("pause")
    await asyncio.wait_for(source.close(), WAIT)
