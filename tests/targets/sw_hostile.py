"""Misbehaving targets for the attack tests: each counts its own calls in files under
SOAKWATCH_ROOT/counts/ (one line per call), so a test compares soakwatch's figures with its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _count(what: str) -> None:
    d = Path(os.environ.get("SOAKWATCH_ROOT", ".")) / "counts"
    d.mkdir(exist_ok=True)
    with (d / f"{what}-{os.getpid()}.txt").open("a") as fh:
        fh.write("1\n")


def ok(case: dict[str, Any] | None = None) -> None:
    _count("ok")


class Unprintable(Exception):
    """An exception whose ``__str__`` itself raises."""

    def __str__(self) -> str:
        raise RuntimeError("no text for you")


def unprintable(case: dict[str, Any] | None = None) -> None:
    _count("raised")
    raise Unprintable()


def surrogates(case: dict[str, Any] | None = None) -> None:
    """Raises with a message holding lone surrogates, as undecodable bytes read with surrogateescape give."""
    _count("raised")
    raise ValueError(b"bad \xff\xfe bytes".decode("utf-8", "surrogateescape") + " and \ud800")


def _long_named(n: int) -> type[Exception]:
    return type("E" * 20_000 + str(n), (Exception,), {})


LONG_NAMED = [_long_named(n) for n in range(50)]


def long_kinds(case: dict[str, Any] | None = None) -> None:
    """50 exception classes with 20 KB names, one after another."""
    i = int((case or {}).get("i", 0))
    _count("raised")
    raise LONG_NAMED[i % len(LONG_NAMED)]("x")
