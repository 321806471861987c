"""A small engine for the collectors' end-to-end tests (copied into the sandbox root).

Each call rewrites a bounded ``state/pra_log.json`` atomically (its line count settles
after PRA_ENTRIES calls) and appends one line of LINE_BYTES-ish to ``state/tul_log.json``.
With ``COLLECTORS_ENGINE_TOUCH=dag/x.json`` it rewrites that DAG file once, at call
TOUCH_AT; with ``COLLECTORS_ENGINE_HALF=state/x.json`` it leaves that JSON file
half-written at call HALF_AT.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PRA_ENTRIES = 30
PAD = 165
TOUCH_AT = 150
HALF_AT = 50

_calls = 0


def run(case: Any = None) -> int:
    global _calls
    _calls += 1
    root = Path(os.environ["SOAKWATCH_ROOT"])
    state = root / "state"
    state.mkdir(exist_ok=True)
    pra = state / "pra_log.json"
    try:
        entries = json.loads(pra.read_text())
    except (OSError, ValueError):
        entries = []
    entries = [*entries, {"call": _calls, "pid": os.getpid()}][-PRA_ENTRIES:]
    tmp = pra.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=1))
    os.replace(tmp, pra)
    with (state / "tul_log.json").open("a") as fh:
        fh.write(json.dumps({"call": _calls, "pad": "x" * PAD}) + "\n")
    touch = os.environ.get("COLLECTORS_ENGINE_TOUCH")
    if touch and _calls == TOUCH_AT:
        (root / touch).write_text(json.dumps({"node": "changed", "at": _calls}) + "\n")
    half = os.environ.get("COLLECTORS_ENGINE_HALF")
    if half and _calls == HALF_AT:
        (root / half).write_text('{"epoch": 7, "nodes": [1, 2')
    return _calls


def leak(case: Any = None, _hold: list[bytes] = []) -> None:  # noqa: B006 - the leak is the point
    """Holds on to about 50 KB per call."""
    import time

    _hold.append(b"x" * 51200)
    time.sleep(0.002)


def flat(case: Any = None) -> None:
    """Holds on to nothing."""
    import time

    _ = b"x" * 51200
    time.sleep(0.002)
