"""``depends_on`` start order, placeholders (``{run_dir}``, ``{node_dir}``) and nodes that never get ready.

A server node opens its TCP port only after a delay of its own; a client node connects to
it once at start-up and exits 3 when it cannot. The server counts the greetings it got
and writes the count at exit, so the test compares the server's own count with the client's.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from soakwatch.core.events import read_events
from tests.helpers import only_run_dir, run_cli

pytestmark = pytest.mark.e2e

SERVER = """
import signal, socket, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
greetings = 0
def stop(*_):
    open(out, "w").write(f"{greetings}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
time.sleep(1.0)  # the system under test is slow to open its port: only depends_on makes the client wait
srv = socket.create_server(("127.0.0.1", port))
while True:
    conn, _ = srv.accept()
    if conn.recv(5) == b"hello":
        greetings += 1
    conn.close()
"""

CLIENT = """
import socket, sys, time
port, ready, note = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"hello")
except OSError as exc:
    print(f"no server on {port}: {exc}", file=sys.stderr)
    sys.exit(3)
open(note, "w").write("greeted\\n")
open(ready, "w").write("ready\\n")
while True:
    time.sleep(0.2)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def profile(tmp_path: Path, port: int, depends: bool) -> Path:
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "client.py").write_text(CLIENT)
    deps = 'depends_on = ["server"]\n' if depends else ""
    text = f"""
duration = "3s"
[[nodes]]
id = "server"
command = ["{{python}}", "server.py", "{port}", "{{node_dir}}/greetings.txt"]
ready = {{ tcp = {port}, timeout = "20s" }}
restart = "never"

[[nodes]]
id = "client"
command = ["{{python}}", "client.py", "{port}", "{{node_dir}}/ready", "{{run_dir}}/client-note.txt"]
ready = {{ file = "{{node_dir}}/ready", timeout = "20s" }}
restart = "never"
{deps}"""
    path = tmp_path / "topology.toml"
    path.write_text(text)
    return path


def run(tmp_path: Path, prof: Path, *extra: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    res = run_cli(["run", "--profile", str(prof), "--no-tui", "--out-dir", str(out), *extra], cwd=tmp_path)
    assert "Traceback" not in res.stderr, res.stderr
    return res.returncode, res.stdout + res.stderr, only_run_dir(out)


def test_the_second_node_starts_once_the_first_is_ready(tmp_path: Path) -> None:
    code, output, run_dir = run(tmp_path, profile(tmp_path, free_port(), depends=True))
    assert code == 0, output
    events = read_events(run_dir / "events.jsonl")
    order = [(e["kind"], e.get("node")) for e in events if e["kind"] in ("node_start", "node_ready")]
    assert order[:4] == [
        ("node_start", "server"),
        ("node_ready", "server"),
        ("node_start", "client"),
        ("node_ready", "client"),
    ]
    # the client's {run_dir} note and the server's own count of greetings (written at SIGTERM)
    assert (run_dir / "client-note.txt").read_text() == "greeted\n"
    assert (run_dir / "nodes" / "server" / "greetings.txt").read_text() == "1\n"


def test_without_depends_on_the_client_fails_and_the_stage_is_failed(tmp_path: Path) -> None:
    code, output, run_dir = run(tmp_path, profile(tmp_path, free_port(), depends=False))
    assert code == 1, output
    assert "FAILED" in output
    assert "node client exited with code 3 before it was ready" in output
    assert not (run_dir / "client-note.txt").exists()


def test_a_node_never_ready_fails_the_stage_with_the_expanded_ready_file(tmp_path: Path) -> None:
    prof = tmp_path / "never.toml"
    prof.write_text(
        'duration = "1m"\n[[nodes]]\nid = "idle"\n'
        'command = ["{python}", "-c", "import time; time.sleep(120)"]\n'
        'ready = { file = "{node_dir}/ready", timeout = "1m" }\n'
    )
    # --duration on the command line bounds the readiness wait (1 minute in the profile)
    code, output, run_dir = run(tmp_path, prof, "--duration", "2s")
    assert code == 1, output
    assert "stage never: FAILED (exit 1)" in output
    expected = run_dir / "nodes" / "idle" / "ready"
    assert f"node idle not ready after 2s (file {expected} not written since the start)" in output
    assert "{node_dir}" not in output
    ends = [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == "stage_end"]
    assert ends[-1]["state"] == "FAILED"
