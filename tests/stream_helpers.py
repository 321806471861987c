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

from tests.server_process import port_file_server

SERVER = Path(__file__).resolve().parent / "stream_server.py"


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
    argv = [sys.executable, str(SERVER), "--port-file", str(port_file), "--max-seconds", "240", *args]
    with port_file_server(argv, port_file, "the stream server") as (port, proc):
        yield StreamServer(port, proc)
