"""Readiness checks of a started node: a file that appears, a local TCP port, a local HTTP URL.

Each check is one cheap probe; :func:`wait_ready` repeats it every ``interval`` until it
holds, the node exits, the timeout passes or the stage stops. A file counts only when it
was written after the node started (a ``ready`` file left by an earlier run is not
readiness). Only 127.0.0.1 is probed, never through a proxy.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from soakwatch.config.nodes import ReadyCheck

__all__ = ["file_ready", "http_ready", "probe", "tcp_ready", "wait_ready"]

#: seconds one TCP or HTTP probe may take
PROBE_TIMEOUT = 1.0
#: file systems keep mtimes at coarse granularity: a file this much older than the start still counts
MTIME_SLACK = 1.0


def file_ready(path: Path, since: float) -> bool:
    """``path`` exists and was modified at or after ``since`` (a ``time.time()``)."""
    try:
        return path.stat().st_mtime >= since - MTIME_SLACK
    except OSError:
        return False


def tcp_ready(port: int, host: str = "127.0.0.1") -> bool:
    """A TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def http_ready(url: str) -> bool:
    """``GET url`` answers 200 (no proxy, no redirects followed)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=PROBE_TIMEOUT)
    try:
        path = parts.path or "/"
        conn.request("GET", path + (f"?{parts.query}" if parts.query else ""))
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def probe(check: ReadyCheck, file_path: Path | None, since: float) -> bool:
    """One probe of ``check`` (``file_path`` is the resolved ``check.file``)."""
    if check.file is not None:
        assert file_path is not None
        return file_ready(file_path, since)
    if check.tcp is not None:
        return tcp_ready(check.tcp)
    assert check.http is not None
    return http_ready(check.http)


def wait_ready(
    check: ReadyCheck,
    file_path: Path | None,
    since: float,
    exited: Callable[[], int | None],
    stop: threading.Event,
    limit: float | None = None,
) -> tuple[bool, str]:
    """Probe until ready: ``(True, how long)`` or ``(False, why not)``, paths in the message expanded.

    ``exited()`` returns the node's exit code once it is gone (then waiting is over);
    ``limit`` (the stage's duration) shortens a longer ``check.timeout``.
    """
    timeout = check.timeout if limit is None else min(check.timeout, limit)
    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        if probe(check, file_path, since):
            return True, f"ready after {time.monotonic() - t0:.1f}s"
        code = exited()
        if code is not None:
            return False, f"exited with code {code} before it was ready"
        if time.monotonic() >= deadline:
            return False, f"not ready after {timeout:g}s ({describe(check, file_path)})"
        if stop.wait(check.interval):
            return False, "the stage is stopping"


def describe(check: ReadyCheck, file_path: Path | None = None) -> str:
    """The check in words, with the resolved ready file when there is one."""
    if check.file is not None:
        return f"file {file_path or check.file} not written since the start"
    if check.tcp is not None:
        return f"tcp 127.0.0.1:{check.tcp}"
    return f"http {check.http}"
