"""Start tests/stream_server.py as a process on a free port; read its own counters."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER = Path(__file__).resolve().parent / "stream_server.py"
START_TIMEOUT = 15.0


@dataclass
class StreamServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/v1/chat/completions"

    def counters(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/counters", timeout=5) as r:
            doc: dict[str, Any] = json.loads(r.read())
        return doc

    def set_itl(self, ms: float) -> None:
        req = urllib.request.Request(f"{self.base}/pace", data=json.dumps({"itl_ms": ms}).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()


@contextmanager
def stream_server(tmp: Path, *args: str) -> Iterator[StreamServer]:
    port_file = tmp / f"stream-port-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--port-file", str(port_file), "--max-seconds", "240", *args],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists():
            assert proc.poll() is None, f"the stream server exited with {proc.returncode}"
            assert time.monotonic() < deadline, "the stream server did not start"
            time.sleep(0.02)
        yield StreamServer(int(port_file.read_text()), proc)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
