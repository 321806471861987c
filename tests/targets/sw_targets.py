"""Targets for the core tests: each counts its own outcomes in files under SOAKWATCH_ROOT/counts/.

Counting in files (append-only, one line per call, flushed) lets a test compare the
summary with what the target itself saw, across worker processes and restarts.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any


def _count(what: str) -> None:
    d = Path(os.environ.get("SOAKWATCH_ROOT", ".")) / "counts"
    d.mkdir(exist_ok=True)
    with (d / f"{what}-{os.getpid()}.txt").open("a") as fh:
        fh.write("1\n")


class EngineError(Exception):
    pass


def noop() -> None:
    pass


def flaky(case: dict[str, Any]) -> int:
    """Raises on 1% of cases (i % 100 == 7) with two exception types."""
    i = int(case["i"])
    if i % 100 == 7:
        _count("error")
        if i % 200 == 7:
            raise ValueError(f"bad value {i}")
        raise EngineError(f"engine refused {i}")
    _count("ok")
    return i


def crashy(case: dict[str, Any]) -> None:
    """os._exit(1) on case 13, hangs on case 29, fine otherwise."""
    i = int(case["i"])
    if i == 13:
        os._exit(1)
    if i == 29:
        time.sleep(3600)
    _count("ok")


def slow(case: dict[str, Any] | None = None) -> None:
    time.sleep(0.005)


async def async_flaky(case: dict[str, Any]) -> int:
    await asyncio.sleep(0)
    i = int(case["i"])
    if i % 10 == 3:
        raise RuntimeError(f"async failure {i}")
    return i


async def async_hang() -> None:
    await asyncio.sleep(3600)


NOT_CALLABLE = 42


def chatty(case: dict[str, Any] | None = None) -> None:
    """Prints to stdout and stderr on every call."""
    import sys

    print("hello from the target", flush=True)
    print("a warning on stderr", file=sys.stderr)


def slow_counted(case: dict[str, Any] | None = None) -> None:
    """50 ms a call, each counted (the open-model tests: 2 slots serve 40 calls/s)."""
    time.sleep(0.05)
    _count("slow")
