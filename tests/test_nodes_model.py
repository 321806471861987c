"""Node topologies without processes: the [[nodes]] model, the restart policy, readiness probes."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.nodes import NodeSpec, ReadyCheck, substitute
from soakwatch.config.profile import load_profile
from soakwatch.nodes.process import backoff_delay, describe_exit, should_restart
from soakwatch.nodes.ready import file_ready, http_ready, tcp_ready, wait_ready


def node(**over: Any) -> dict[str, Any]:
    return {"id": "n1", "command": ["true"], **over}


def test_a_string_command_is_split_like_a_shell() -> None:
    spec = NodeSpec.model_validate(node(command="python node.py --name 'a b'"))
    assert spec.command == ["python", "node.py", "--name", "a b"]
    assert spec.restart == "on-failure" and spec.cwd == "."


def test_placeholders_are_substituted_and_other_braces_kept() -> None:
    text = substitute("{python} x --id {id} --json {a: 1} {report_dir}", {"id": "n1", "python": "/py"})
    assert text == "/py x --id n1 --json {a: 1} {report_dir}"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"nodes": [node(), node()]}, ["nodes", "unique", "n1"]),
        ({"nodes": [node(id="monitor")]}, ["nodes.0.id", "monitor"]),
        ({"nodes": [node(id="a b")]}, ["nodes.0.id"]),
        ({"nodes": [node(command=[])]}, ["nodes.0.command"]),
        ({"nodes": [node(restart="sometimes")]}, ["nodes.0.restart", "sometimes"]),
        ({"nodes": [node(ready={"tcp": 1, "file": "x"})]}, ["exactly one", "file, tcp"]),
        ({"nodes": [node(ready={"http": "http://example.com/health"})]}, ["127.0.0.1"]),
        ({"nodes": [node()], "calls": 5, "duration": None}, ["duration", "not 'calls'"]),
        (
            {"nodes": [node()], "chaos": [{"name": "k", "action": "kill_node", "node": "n2"}]},
            ["chaos[0].node", "n2", "n1"],
        ),
    ],
)
def test_bad_node_profiles_say_which_field(tmp_path: Path, data: dict[str, Any], words: list[str]) -> None:
    f = tmp_path / "p.toml"
    f.write_text("")
    over = {"duration": 10.0, **data}
    with pytest.raises(UsageError) as err:
        load_profile(None, over)
    for w in words:
        assert w in str(err.value)


def test_a_node_profile_needs_no_target() -> None:
    p = load_profile(None, {"duration": 5.0, "nodes": [node(ready={"tcp": 9, "timeout": "2s"})]})
    assert p.target is None and p.nodes[0].ready is not None and p.nodes[0].ready.timeout == 2.0


@pytest.mark.parametrize(
    ("policy", "code", "expected", "restart"),
    [
        ("never", 3, False, False),
        ("on-failure", 3, False, True),
        ("on-failure", -9, False, True),
        ("on-failure", 0, False, False),
        ("always", 0, False, True),
        ("always", 3, True, False),
        ("on-failure", -9, True, False),
    ],
)
def test_restart_policy(policy: Any, code: int, expected: bool, restart: bool) -> None:
    assert should_restart(policy, code, expected) is restart


def test_backoff_doubles_up_to_its_cap() -> None:
    spec = NodeSpec.model_validate(node(backoff="1s", backoff_max="5s"))
    assert [backoff_delay(spec, n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff_delay(NodeSpec.model_validate(node(backoff=0)), 3) == 0.0


def test_exit_descriptions() -> None:
    assert describe_exit(3) == ("exited with code 3", None)
    assert describe_exit(-9) == ("killed by SIGKILL", "SIGKILL")


def test_a_file_counts_only_when_written_after_the_start(tmp_path: Path) -> None:
    f = tmp_path / "ready"
    assert not file_ready(f, time.time())
    f.write_text("1")
    assert file_ready(f, time.time())
    assert not file_ready(f, time.time() + 60)


@pytest.fixture
def http_server() -> Iterator[tuple[int, int]]:
    """A local server: /health answers 200, anything else 503. Yields (port, a closed port)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    yield server.server_address[1], closed
    server.shutdown()
    server.server_close()
    th.join(5)


def test_tcp_and_http_probes(http_server: tuple[int, int]) -> None:
    port, closed = http_server
    assert tcp_ready(port) and not tcp_ready(closed)
    assert http_ready(f"http://127.0.0.1:{port}/health")
    assert not http_ready(f"http://127.0.0.1:{port}/other")
    assert not http_ready(f"http://127.0.0.1:{closed}/health")


def test_wait_ready_ends_on_ready_on_exit_and_on_timeout(http_server: tuple[int, int]) -> None:
    port, closed = http_server
    stop = threading.Event()
    ok, how = wait_ready(ReadyCheck(http=f"http://127.0.0.1:{port}/health"), None, 0, lambda: None, stop)
    assert ok and how.startswith("ready after")
    ok, how = wait_ready(ReadyCheck(tcp=closed, timeout=5), None, 0, lambda: 3, stop)
    assert not ok and "exited with code 3" in how
    ok, how = wait_ready(ReadyCheck(tcp=closed, timeout=0.3, interval=0.05), None, 0, lambda: None, stop)
    assert not ok and "not ready after 0.3s" in how and f"tcp 127.0.0.1:{closed}" in how
