"""Targets of the Ray executor's tests: each call writes one line to a log of its own kind
beside this module (O_APPEND, one write a call), so the test counts what really ran."""

from __future__ import annotations

import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_fds: dict[str, int] = {}
_calls: dict[str, int] = {}


def _log(name: str, line: str) -> None:
    fd = _fds.get(name)
    if fd is None:
        fd = _fds[name] = os.open(os.path.join(HERE, f"{name}.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, line.encode())


def _nth(name: str) -> int:
    _calls[name] = _calls.get(name, 0) + 1
    return _calls[name]


def counted() -> None:
    """Every fifth call of an actor fails."""
    if _nth("counted") % 5 == 0:
        _log("counted", "e\n")
        raise ValueError("every fifth call of an actor fails")
    _log("counted", "o\n")


def chaosed(index: int) -> None:
    """A short call (2 ms), while chaos kills one actor and pauses another: logs the call's
    index (its case), the actor's pid and when the call started."""
    t0 = time.time()
    time.sleep(0.002)
    _log("chaosed", f"{index} {os.getpid()} {t0:.6f}\n")


def aborting() -> None:
    """5 ms calls; after its 100th call every call of an actor fails (the abort gate stops the stage)."""
    time.sleep(0.005)
    if _nth("aborting") > 100:
        _log("aborting", f"e {time.time():.6f}\n")
        raise RuntimeError("failing from now on")
    _log("aborting", f"o {time.time():.6f}\n")


_node: list[str] = []


def placed() -> None:
    """Logs the Ray node it runs on (the stage places its actors by node label)."""
    if not _node:
        import ray

        _node.append(ray.get_runtime_context().get_node_id())
    _log("placed", f"{_node[0]}\n")


def slow() -> None:
    """30 ms a call: two slots keep up with about 66 calls/s, so at 100/s arrivals are missed."""
    time.sleep(0.03)
    _log("slow", "o\n")
