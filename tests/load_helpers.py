"""The slow server (tests/slow_server.py) as a real process, and waiting on predicates."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.server_process import port_file_server

SERVER = Path(__file__).resolve().parent / "slow_server.py"


@dataclass
class SlowServer:
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/work"

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5).read()
        )
        return out

    def answers(self) -> list[tuple[float, str, int]]:
        """(arrival time, request id, status) of every answered request, from the server's log."""
        rows = []
        for line in self.log.read_text().splitlines():
            t, rid, status = line.split()
            rows.append((float(t), rid, int(status)))
        return rows


@contextmanager
def slow_server(
    tmp: Path, delay: float = 0.2, statuses: str = "200", max_seconds: float = 120, stall: float = 5.0
) -> Iterator[SlowServer]:
    """Start the slow server on a free 127.0.0.1 port; stop it (by its pid) afterwards; a status of 0
    stalls ``stall`` seconds."""
    port_file = tmp / f"slow-port-{time.monotonic_ns()}"
    log = tmp / f"slow-log-{time.monotonic_ns()}.txt"
    args = ["--port-file", str(port_file), "--log", str(log), "--delay", str(delay), "--statuses", statuses]
    args += ["--stall", str(stall)]
    argv = [sys.executable, str(SERVER), *args, "--max-seconds", str(max_seconds)]
    with port_file_server(argv, port_file, "the slow server") as (port, proc):
        yield SlowServer(port, log, proc)


def wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``pred()`` is true, polling; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
