"""Targets for the benchmarks."""

from soakwatch import phase, record


def noop() -> None:
    """Does nothing: what is measured is the runner's own cost per call."""


def with_phase() -> None:
    """One ``soakwatch.phase`` around nothing: the cost of timing a phase."""
    with phase("work"):
        pass


def with_record() -> None:
    """One ``soakwatch.record`` per call: the cost of reporting a value."""
    record("seq", 1)


def with_both() -> None:
    with phase("work"):
        record("seq", 1)


def http_get() -> None:
    """One GET of the benchmark's local server (bench_ray.py; its URL in SOAKWATCH_BENCH_URL)."""
    import os
    import urllib.request

    with urllib.request.urlopen(os.environ["SOAKWATCH_BENCH_URL"], timeout=10) as resp:
        resp.read()
