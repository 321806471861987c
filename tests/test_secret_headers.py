"""Must-show: a secret header value read from the environment appears in no file of the run directory.

A local server (a thread of this test, with its own counters) records the ``Authorization`` and
``X-Api-Key`` it receives and echoes them back in its answers: in the body, in a header the profile
extracts, and in the error envelope of every fifth call (a 401). The stage also scrapes the same
server with a secret header, and records every answer. Afterwards every file of the run directory,
binary ones included, is searched for the secret bytes: none holds them, while the server counted
the secret on every request.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from soakwatch.config.envref import check_env_refs, expand_env
from soakwatch.config.errors import UsageError
from soakwatch.core.redact import REDACTED, note_secret, redact_obj, redact_text, scrub_bytes
from tests.helpers import only_run_dir, run_cli

SECRET = "sk-test-9f2c41d7e8b3"
OTHER = "kq-other-51a0e6"
CALLS = 60


class _Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.with_secret = 0
        self.scrapes_with_secret = 0


def _handler(counts: _Counts) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            if self.path == "/metrics":
                with counts.lock:
                    counts.scrapes_with_secret += auth == f"Bearer {OTHER}"
                self._send(200, f"# echo {auth}\nserved_total {counts.calls}\n".encode(), "text/plain")
                return
            with counts.lock:
                counts.calls += 1
                n = counts.calls
                counts.with_secret += auth == f"Bearer {SECRET}" and self.headers.get("X-Api-Key") == OTHER
            if n % 5 == 0:
                body = {"error": {"code": "bad_token", "message": f"token {auth} refused"}}
                self._send(401, json.dumps(body).encode(), "application/json", auth)
            else:
                self._send(200, json.dumps({"ok": True, "seen": auth, "n": n}).encode(), "application/json", auth)

        def _send(self, status: int, body: bytes, ctype: str, echo: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if echo:
                self.send_header("X-Echo", echo)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def echo_server() -> Iterator[tuple[int, _Counts]]:
    counts = _Counts()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(counts))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], counts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _profile(tmp: Path, port: int) -> Path:
    path = tmp / "secret.toml"
    path.write_text(
        f"""
name = "secret"
target = "http://127.0.0.1:{port}/v1/thing"
calls = {CALLS}
concurrency = 2
[http]
headers = {{ Authorization = "Bearer ${{SW_TEST_SECRET}}", X-Api-Key = "${{SW_TEST_OTHER}}" }}
extract = {{ echo = "header:X-Echo", seen = "$.seen" }}
[record]
every = 1
[[scrape]]
name = "srv"
url = "http://127.0.0.1:{port}/metrics"
interval = "200ms"
headers = {{ Authorization = "Bearer ${{SW_TEST_OTHER}}" }}
"""
    )
    return path


def test_a_secret_header_is_sent_and_written_nowhere(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    env = {"SW_TEST_SECRET": SECRET, "SW_TEST_OTHER": OTHER}
    with echo_server() as (port, counts):
        profile = _profile(tmp_path, port)
        r = run_cli(["run", "--profile", str(profile), "--no-tui", "--out-dir", str(out)], cwd=tmp_path, env=env)
    assert r.returncode in (0, 1), r.stdout + r.stderr  # the 401s may fail the default error gate
    assert counts.calls == CALLS and counts.with_secret == CALLS  # sent on every request
    assert counts.scrapes_with_secret >= 1
    run_dir = only_run_dir(out)
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert (run_dir / "report.html").exists() and (run_dir / "answers.jsonl").exists()
    for secret in (SECRET, OTHER):
        leaked = [str(p.relative_to(run_dir)) for p in files if secret.encode() in p.read_bytes()]
        assert leaked == [], f"{secret} written to {leaked}"
        assert secret not in r.stdout + r.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == CALLS
    assert {k["kind"]: k["count"] for k in summary["errors_by_kind"]} == {"HTTP 401 bad_token": CALLS // 5}
    assert REDACTED in (run_dir / "answers.jsonl").read_text()  # the echo is kept, the secret is not
    config = json.loads((run_dir / "run_config.json").read_text())
    assert config["profile"]["http"]["headers"]["X-Api-Key"] == REDACTED


def test_a_missing_variable_is_exit_2_naming_file_field_and_variable(tmp_path: Path) -> None:
    profile = _profile(tmp_path, 9)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SW_TEST_")}
    env["SW_TEST_OTHER"] = OTHER
    r = run_cli(["validate", "--profile", str(profile)], cwd=tmp_path, env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(profile) in r.stderr and "http.headers.Authorization" in r.stderr
    assert "SW_TEST_SECRET is not set" in r.stderr and "Traceback" not in r.stderr


def test_expansion_and_redaction_helpers() -> None:
    assert expand_env("Bearer ${A}-${B}", {"A": "aaaa", "B": "b"}) == ("Bearer aaaa-b", ["aaaa", "b"])
    with pytest.raises(UsageError, match=r"f.toml: scrape.s.headers.X: environment variable NOPE is not set"):
        check_env_refs([("scrape.s.headers", {"X": "${NOPE}"})], "f.toml", {})
    note_secret("zz-secret-value")
    note_secret("ab")  # too short to scrub everywhere
    assert redact_text("a zz-secret-value b ab") == f"a {REDACTED} b ab"
    assert scrub_bytes(b'{"t": "zz-secret-value"}') == b'{"t": "***"}'
    assert redact_obj({"usage": {"completion_tokens": 3}, "m": "zz-secret-value"}) == {
        "usage": {"completion_tokens": 3},  # a count under a secret-looking name stays
        "m": REDACTED,
    }
