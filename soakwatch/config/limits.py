"""Bounds on numbers a profile or a flag may give: non-finite or absurd values are refused at
validation (exit 2, naming the field), never discovered as a stage that runs 0 calls.

Each bound is far outside any real stage and well inside what the runners can schedule
(a timeout of 1e300 s overflows the nanosecond clocks; a rate of 1e-300/s plans the first
call for after the end of the universe).
"""

from __future__ import annotations

__all__ = [
    "MAX_CALLS",
    "MAX_CONCURRENCY",
    "MAX_DURATION",
    "MAX_RATE",
    "MAX_TIMEOUT",
    "MIN_RATE",
    "MIN_SECONDS",
    "WORKER_LOG_HEAD",
    "WORKER_LOG_TAIL",
    "check_http_url",
]

#: a year: the longest duration (stage, gate window, ``for``) soakwatch plans
MAX_DURATION = 366 * 86400.0
#: a day: the longest per-call timeout
MAX_TIMEOUT = 86400.0
#: the shortest duration or timeout that can be measured and scheduled (a millisecond)
MIN_SECONDS = 0.001
#: arrivals per second, open model: one an hour at the least, a million a second at the most
MIN_RATE = 1 / 3600
MAX_RATE = 1_000_000.0
#: calls in flight at once (``concurrency``, a concurrency ``[[shape]]``)
MAX_CONCURRENCY = 4096
#: calls in one stage
MAX_CALLS = 10**12
#: a worker's output (the target's stdout and stderr): the first WORKER_LOG_HEAD bytes stay in
#: ``workers/worker-<slot>.log``; the rest goes to ``worker-<slot>.tail.log``, moved to ``.1`` each
#: time it reaches WORKER_LOG_TAIL bytes (the older ``.1`` dropped, and said): at most
#: HEAD + 2 x TAIL bytes per slot on disk, however much the target prints
WORKER_LOG_HEAD = 4 * 1024 * 1024
WORKER_LOG_TAIL = 8 * 1024 * 1024


def check_http_url(url: str) -> None:
    """Raise ValueError unless ``url`` is an ``http://`` or ``https://`` URL with a host and a valid port."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a port that is not a number in 0..65535
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"not an http:// or https:// URL: {url!r}")
    if not parts.hostname:
        raise ValueError(f"no host in {url!r} (expected e.g. http://127.0.0.1:8000/metrics)")
    if port == 0:
        raise ValueError(f"port 0 in {url!r}")
