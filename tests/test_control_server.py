"""The control socket on its own: permissions, malformed input, several clients, slow clients."""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soakwatch.control import wire as wire
from soakwatch.control.client import ControlClient
from soakwatch.control.server import ControlServer
from soakwatch.core.snapshot import EventView, Snapshot
from soakwatch.core.source import CommandError
from tests.control_raw import raw_connect

WAIT = 10.0

pytestmark = pytest.mark.usefixtures("control_transport")  # every test over the Unix socket and over tcp


def snap(seq: int, events: int = 0, state: str = "RUNNING", pad: int = 0) -> Snapshot:
    return Snapshot(
        seq=seq,
        stage="unit",
        profile="unit",
        target="mod:fn",
        run_dir="/nowhere",
        state=state,  # type: ignore[arg-type]
        elapsed=float(seq),
        calls=seq,
        events=[EventView(seq=seq * 10 + i, t=float(seq), kind="k", level="info", message="m") for i in range(events)],
        output=["x" * pad] if pad else [],
    )


class Recorder:
    """A command handler that records what reached it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sources: list[str] = []

    def __call__(self, name: str, args: dict[str, Any], source: str = "socket") -> str:
        self.sources.append(source)
        if name == "boom":
            raise RuntimeError("bug in a command")
        if name not in ("pause", "resume", "chaos"):
            raise ValueError(f"unknown command {name!r}")
        self.calls.append((name, args))
        return f"{name}: ok"


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


@pytest.fixture
def server(tmp_path: Path, handler: Recorder) -> Iterator[ControlServer]:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    srv = ControlServer(run_dir, handler, info={"stage": "unit"})
    srv.start()
    yield srv
    srv.close(grace=0.5)


def wait_until(pred: Any, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.parametrize("control_transport", ["unix"], indirect=True)  # the Unix socket itself
def test_socket_is_owner_only(server: ControlServer) -> None:
    assert server.address == server.run_dir / wire.SOCKET_NAME
    st = os.stat(server.address)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.getuid()
    # nothing else was left in the run dir by the private bind
    assert sorted(p.name for p in server.run_dir.iterdir()) == [wire.SOCKET_NAME]


@pytest.mark.parametrize("control_transport", ["unix"], indirect=True)  # the Unix socket itself
def test_long_run_dir_gets_a_short_socket_named_in_control_addr(tmp_path: Path, handler: Recorder) -> None:
    run_dir = tmp_path / ("d" * 60) / ("e" * 60)
    run_dir.mkdir(parents=True)
    srv = ControlServer(run_dir, handler)
    srv.start()
    try:
        addr = Path((run_dir / wire.ADDR_NAME).read_text().strip())
        assert addr == srv.address and len(os.fsencode(addr)) <= wire.MAX_UNIX_PATH
        assert stat.S_IMODE(os.stat(addr).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(addr.parent).st_mode) == 0o700
        with ControlClient(run_dir) as c:
            assert c.command("pause") == "pause: ok"
    finally:
        srv.close(grace=0.2)
    assert not (run_dir / wire.ADDR_NAME).exists() and not addr.parent.exists()


def test_malformed_messages_are_answered_and_change_nothing(server: ControlServer, handler: Recorder) -> None:
    with ControlClient(server.run_dir) as c:
        bad = [
            b"not json at all",
            b"[1, 2, 3]",
            b'{"args": {}}',
            b'{"cmd": 42}',
            b'{"cmd": ""}',
            b'{"cmd": "pause", "args": [1]}',
            b'{"cmd": "pause", "extra": true}',
            b'{"cmd": "pause", "id": [1]}',
            b"\xff\xfe{}",
        ]
        for line in bad:
            c.send_line(line)
            reply = c.read_reply()
            assert reply["ok"] is False, line
            assert reply["error"].startswith("malformed message"), reply
        # an over-long line is refused once and skipped up to its newline
        c.send_line(b'{"cmd": "pause", "args": {"x": "' + b"y" * (wire.MAX_REQUEST_BYTES + 10) + b'"}}')
        assert "longer than" in c.read_reply()["error"]
        assert handler.calls == []
        # unknown commands and a command's own bug are refusals, not crashes
        with pytest.raises(CommandError, match="unknown command 'nope'"):
            c.command("nope")
        with pytest.raises(CommandError, match="RuntimeError: bug in a command"):
            c.command("boom")
        assert handler.calls == []
        # the connection still works, and the id of a refused request comes back
        c.send_line(b'{"cmd": 5, "id": 77}')
        assert c.read_reply()["id"] == 77
        assert c.command("pause") == "pause: ok"
    assert handler.calls == [("pause", {})]


def test_two_clients_at_once(server: ControlServer, handler: Recorder) -> None:
    with ControlClient(server.run_dir) as a, ControlClient(server.run_dir) as b:
        assert a.request("subscribe")["ok"] and b.request("subscribe")["ok"]
        wait_until(lambda: server.client_count == 2)
        server.publish(snap(1))
        assert a.next_snapshot(WAIT).seq == 1  # type: ignore[union-attr]
        assert b.next_snapshot(WAIT).seq == 1  # type: ignore[union-attr]
        assert a.command("chaos", {"action": "x"}) == "chaos: ok"
        assert b.command("pause") == "pause: ok"
        server.publish(snap(2))
        assert a.next_snapshot(WAIT).seq == 2  # type: ignore[union-attr]
        assert b.next_snapshot(WAIT).seq == 2  # type: ignore[union-attr]
        info = a.request("hello")["info"]
        assert info["protocol"] == wire.PROTOCOL and info["pid"] == os.getpid() and info["stage"] == "unit"
    assert handler.calls == [("chaos", {"action": "x"}), ("pause", {})]


def test_a_client_that_does_not_read_costs_the_publisher_nothing(server: ControlServer) -> None:
    """The slow client's buffer stays bounded (one snapshot) and a reading client sees every newest one."""
    slow = raw_connect(server.run_dir, rcvbuf=4096)
    slow.sendall(b'{"cmd": "subscribe"}\n')
    with ControlClient(server.run_dir) as fast:
        fast.request("subscribe")
        wait_until(lambda: server.client_count == 2)
        n = 300
        for i in range(1, n + 1):
            server.publish(snap(i, events=2, pad=20_000))  # returns at once, whoever reads or not
            got = fast.next_snapshot(WAIT)
            assert got is not None and got.seq == i
        # the slow one fell behind by hundreds of 20 KB snapshots; they were replaced, not queued
        wait_until(lambda: server.dropped() > 0)
        # it now reads: a bounded backlog, ending with the newest state and the events it missed
        slow.settimeout(WAIT)
        buf = b""
        last: dict[str, Any] = {}
        while last.get("seq") != n:
            chunk = slow.recv(1 << 20)
            assert chunk
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                obj = json.loads(line)
                if wire.is_snapshot(obj):
                    last = obj
        carried = {e["seq"] for e in last["events"]}
        assert len(carried) > 2  # events of the snapshots it never got ride along
    slow.close()


def test_close_gives_subscribers_the_final_snapshot(tmp_path: Path, handler: Recorder) -> None:
    srv = ControlServer(tmp_path, handler)
    srv.start()
    c = ControlClient(tmp_path)
    c.request("subscribe")
    wait_until(lambda: srv.client_count == 1)
    srv.publish(snap(1))
    srv.publish(snap(2, state="PASSED"))
    srv.close()
    final = None
    while (s := c.next_snapshot(WAIT)) is not None:
        final = s
    assert final is not None and final.state == "PASSED"
    assert c.gone
    assert not (tmp_path / wire.SOCKET_NAME).exists()
    c.close()


@pytest.mark.parametrize("control_transport", ["unix"], indirect=True)  # the Unix socket itself
def test_other_users_are_refused_by_peer_credentials(monkeypatch: pytest.MonkeyPatch, server: ControlServer) -> None:
    """SO_PEERCRED says who connects; a uid other than ours is answered with a refusal and hung up on."""
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(server.address))
    s.settimeout(WAIT)
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    s.close()
    assert json.loads(data) == {"ok": False, "error": "refused: not the owner of this stage"}


def test_a_named_client_is_the_source_of_its_commands(tmp_path: Path, handler: Recorder) -> None:
    seen: list[tuple[str, str]] = []
    srv = ControlServer(tmp_path, handler, on_client=lambda what, name: seen.append((what, name)))
    srv.start()
    try:
        with ControlClient(tmp_path) as c:
            c.request("hello", {"client": "ctl"})
            assert c.command("pause") == "pause: ok"
        with ControlClient(tmp_path) as anon:
            assert anon.command("resume") == "resume: ok"
        wait_until(lambda: ("detach", "ctl") in seen)
    finally:
        srv.close()
    assert handler.sources == ["ctl", "socket"]
    assert seen == [("attach", "ctl"), ("detach", "ctl")]
