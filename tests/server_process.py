"""A local test server in a process of its own: it writes its port to a file once it listens;
stopped (by its pid) when the block ends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: how long a server gets to write its port file
START_TIMEOUT = 15.0


@contextmanager
def port_file_server(argv: list[str], port_file: Path, what: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Start ``argv`` (which writes its port to ``port_file``); (port, process) while it runs."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None, f"{what} exited with {proc.returncode}"
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.02)
        yield int(port_file.read_text()), proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
