"""The built-in demo engine: behaves like a real engine so every panel has something true to show.

``run_model(case)`` takes a few milliseconds (log-normal, with an occasional slow
call), raises now and then (a few kinds), rewrites a bounded JSON memory log
(``state/pra_log.json``: its line count settles), appends to a translation log that
keeps growing (``state/tul_log.json``), reads a small DAG folder it never writes
(``dag/``) and holds on to a little memory per call (a slow, capped leak) so the
memory panel has a trend. It works in the sandbox named by ``SOAKWATCH_ROOT``.

Chaos hook: while ``state/chaos.json`` exists, ``{"errors": 0.8}`` makes that share of
calls fail with ``EngineOverloaded`` and ``{"latency_ms": 40}`` adds latency to every call
(a chaos action writes the file for a window and removes it).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["EngineOverloaded", "StateCorrupted", "prepare_sandbox", "run_model", "work"]

PRA_ENTRIES = 40
LEAK_BYTES = 4096
LEAK_CAP = 24 * 1024 * 1024

_leak: list[bytes] = []
_calls = 0


class EngineOverloaded(RuntimeError):
    """The engine refused a call."""


class StateCorrupted(ValueError):
    """The engine found its state inconsistent."""


def _root() -> Path:
    return Path(os.environ.get("SOAKWATCH_ROOT") or ".")


def _chaos(state: Path) -> dict[str, Any]:
    try:
        data = json.loads((state / "chaos.json").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def run_model(case: dict[str, Any] | None = None) -> dict[str, Any]:
    """One engine call."""
    global _calls
    _calls += 1
    root = _root()
    state = root / "state"
    state.mkdir(exist_ok=True)
    prompt = (case or {}).get("prompt", "hello")
    chaos = _chaos(state)
    now = time.time()
    delay = min(random.lognormvariate(-5.9, 0.6), 0.2)
    if random.random() < 0.01:
        delay += 0.05
    delay += float(chaos.get("latency_ms", 0)) / 1000
    time.sleep(delay)
    dag = root / "dag"
    nodes = sorted(p.name for p in dag.glob("*.json")) if dag.is_dir() else []
    if random.random() < float(chaos.get("errors", 0)):
        raise EngineOverloaded("chaos: engine overloaded")
    r = random.random()
    if r < 0.006:
        raise StateCorrupted(f"inconsistent state after {_calls} calls")
    if r < 0.010:
        raise EngineOverloaded("queue full")
    if r < 0.012:
        raise KeyError(prompt)
    entry = {"call": _calls, "pid": os.getpid(), "prompt": prompt, "nodes": len(nodes), "t": round(now, 3)}
    pra = state / "pra_log.json"
    try:
        entries = json.loads(pra.read_text())
        if not isinstance(entries, list):
            entries = []
    except (OSError, ValueError):
        entries = []
    entries = [*entries, entry][-PRA_ENTRIES:]
    tmp = pra.with_name(f".pra_log.{os.getpid()}.tmp")  # workers write side by side
    tmp.write_text(json.dumps(entries, indent=1))
    os.replace(tmp, pra)
    with (state / "tul_log.json").open("a") as fh:
        fh.write(json.dumps({"call": _calls, "src": prompt, "dst": prompt[::-1]}) + "\n")
    if len(_leak) * LEAK_BYTES < LEAK_CAP:
        _leak.append(bytes(LEAK_BYTES))
    return {"ok": True, "tokens": len(prompt.split())}


#: milliseconds of sleep per unit of ``size`` in :func:`work`: its cost is linear in ``size`` by construction
WORK_UNIT_MS = 5.0


def _param(case: dict[str, Any] | None, name: str, default: float) -> float:
    """A sweep parameter: from the case (a [matrix] axis), else ``SOAKWATCH_PARAM_<NAME>``, else the default."""
    if case and name in case:
        return float(case[name])
    return float(os.environ.get(f"SOAKWATCH_PARAM_{name.upper()}", default))


def work(case: dict[str, Any] | None = None) -> dict[str, Any]:
    """A sweep target whose cost is linear in its input (docs/sweeps.md).

    Sleeps ``latency_ms + size × unit_ms`` milliseconds (``unit_ms`` defaults to
    :data:`WORK_UNIT_MS`) and holds ``size`` KB while it does, so latency and memory
    both move with ``size`` and a fitted exponent for it should come out near 1.
    """
    size = max(0.0, _param(case, "size", 1))
    delay_ms = max(0.0, _param(case, "latency_ms", 0)) + size * max(0.0, _param(case, "unit_ms", WORK_UNIT_MS))
    held = bytearray(int(size * 1024))
    time.sleep(delay_ms / 1000)
    return {"ok": True, "size": size, "held": len(held)}


PROMPTS = [
    "translate the pressure log",
    "summarise node health",
    "plan the next epoch",
    "count committed blocks",
    "explain the DAG",
    "list failing checks",
    "hello world",
]


def prepare_sandbox(path: Path | None = None) -> Path:
    """A fresh sandbox: ``state/`` (empty), ``dag/`` (a few files), ``cases.jsonl``."""
    root = Path(path) if path else Path(tempfile.mkdtemp(prefix="soakwatch-demo-"))
    (root / "state").mkdir(parents=True, exist_ok=True)
    dag = root / "dag"
    dag.mkdir(exist_ok=True)
    for i, name in enumerate(["ingest", "translate", "score", "commit"]):
        (dag / f"{i:02d}-{name}.json").write_text(json.dumps({"node": name, "after": i - 1}) + "\n")
    (root / "cases.jsonl").write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS))
    return root
