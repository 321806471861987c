"""The example chat service (examples/http_service/server.py) as a real process for the HTTP target tests."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.server_process import port_file_server

REPO = Path(__file__).resolve().parent.parent
SERVER = REPO / "examples" / "http_service" / "server.py"
_SAMPLE = re.compile(r'^example_(requests|tokens)_total\{(?:outcome|kind)="(\w+)"\} (\d+)', re.M)


@dataclass
class Service:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat/completions"

    def metrics(self) -> tuple[dict[str, int], dict[str, int]]:
        """(requests by outcome, tokens by kind) from the service's own /metrics."""
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5).read().decode()
        requests: dict[str, int] = {}
        tokens: dict[str, int] = {}
        for m in _SAMPLE.finditer(text):
            (requests if m.group(1) == "requests" else tokens)[m.group(2)] = int(m.group(3))
        return requests, tokens


@contextmanager
def running_service(tmp: Path, *args: str) -> Iterator[Service]:
    """Start the service on a free 127.0.0.1 port with ``args`` (fault knobs); stop it afterwards."""
    port_file = tmp / f"port-{time.monotonic_ns()}"
    argv = [sys.executable, str(SERVER), "--port", "0", "--port-file", str(port_file), *args]
    with port_file_server(argv, port_file, "the service") as (port, proc):
        yield Service(port, proc)


def free_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
