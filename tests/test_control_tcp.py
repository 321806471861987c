"""The tcp control transport: 127.0.0.1, a random port, a token in an owner-only file; no token, no stage."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from soakwatch.control import wire
from soakwatch.control.client import ControlClient
from soakwatch.control.server import ControlServer
from tests.control_raw import raw_connect
from tests.test_control_server import Recorder

WAIT = 10.0


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


@pytest.fixture
def tcp_server(tmp_path: Path, handler: Recorder) -> Iterator[ControlServer]:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    srv = ControlServer(run_dir, handler, transport="tcp")
    srv.start()
    yield srv
    srv.close(grace=0.5)


def read_all(sock: object) -> bytes:
    import socket

    assert isinstance(sock, socket.socket)
    with sock:  # closed even when recv raises, so no unclosed-socket warning lands on a later test
        sock.settimeout(WAIT)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    return data


def test_the_token_file_is_owner_only_and_names_a_loopback_port(tcp_server: ControlServer) -> None:
    path = tcp_server.run_dir / wire.TCP_NAME
    assert tcp_server.address == path
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.getuid()
    obj = json.loads(path.read_text())
    assert obj["host"] == "127.0.0.1" and 0 < obj["port"] < 65536 and len(obj["token"]) >= 40
    # no temporary file and no Unix socket left beside it
    assert sorted(p.name for p in tcp_server.run_dir.iterdir()) == [wire.TCP_NAME]


@pytest.mark.parametrize("token", ["", "wrong", "x" * 43])
def test_a_wrong_token_is_refused_and_nothing_reaches_the_stage(
    tcp_server: ControlServer, handler: Recorder, token: str
) -> None:
    sock = raw_connect(tcp_server.run_dir, token=token)
    sock.sendall(wire.encode({"cmd": "pause", "id": 1}))
    reply = read_all(sock)  # the server hangs up after its refusal
    assert json.loads(reply) == {"ok": False, "error": "refused: wrong or missing token (see control.tcp)"}
    assert handler.calls == [] and tcp_server.client_count == 0


def test_the_refusal_reaches_a_client_that_keeps_writing_after_it(tcp_server: ControlServer, handler: Recorder) -> None:
    """A client whose next lines are still unread when the server refuses it must read why and then an
    orderly end: a close with unread input resets the connection (seen in CI as ConnectionResetError)."""
    sock = raw_connect(tcp_server.run_dir, token="wrong")
    # more than one recv's worth, so some of it is still in the server's kernel buffer at the refusal
    sock.sendall(wire.encode({"cmd": "pause", "id": 1}) * 20_000)
    assert json.loads(read_all(sock))["error"].startswith("refused: wrong or missing token")
    assert handler.calls == [] and tcp_server.client_count == 0


def test_a_command_before_the_token_is_refused(tcp_server: ControlServer, handler: Recorder) -> None:
    import socket

    ep = wire.endpoint(tcp_server.run_dir)
    assert ep is not None and ep.path is None
    sock = socket.create_connection((ep.host, ep.port), timeout=WAIT)
    sock.sendall(wire.encode({"cmd": "pause", "id": 1}) + wire.auth_line(ep.token))
    assert json.loads(read_all(sock))["error"].startswith("refused:")
    assert handler.calls == []


def test_the_right_token_gives_the_whole_protocol(tcp_server: ControlServer, handler: Recorder) -> None:
    with ControlClient(tcp_server.run_dir) as c:
        assert c.command("pause") == "pause: ok"
        assert c.request("hello")["info"]["run_dir"] == str(tcp_server.run_dir)
    assert handler.calls == [("pause", {})]


def test_the_token_file_is_gone_after_close(tmp_path: Path, handler: Recorder) -> None:
    srv = ControlServer(tmp_path, handler, transport="tcp")
    srv.start()
    assert (tmp_path / wire.TCP_NAME).exists()
    srv.close(grace=0.2)
    assert list(tmp_path.iterdir()) == [] and wire.endpoint(tmp_path) is None


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_a_server_that_cannot_bind_leaves_nothing_open(tmp_path: Path, handler: Recorder, transport: str) -> None:
    srv = ControlServer(tmp_path / "missing", handler, transport=transport)
    with pytest.raises(OSError):
        srv.start()
    assert srv._wake_r.fileno() == -1 and srv._wake_w.fileno() == -1
