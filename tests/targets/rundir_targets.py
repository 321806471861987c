"""Targets for the run-directory tests: each call is counted by the target itself.

``grow_late`` appends one line per call to ``counts/calls-<pid>.txt`` and, from call
``LATE`` on, one line per call to ``late/grow.log`` under SOAKWATCH_ROOT: a watched glob
that matches nothing at the start, so its series first appear mid-run
(timeline_extra.csv).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

#: the call from which late/grow.log is written
LATE = 60
#: bytes of each line of late/grow.log (with its newline)
LINE = b"x" * 63 + b"\n"


def _root() -> Path:
    return Path(os.environ.get("SOAKWATCH_ROOT", "."))


def grow_late(case: dict[str, Any]) -> None:
    root = _root()
    with (root / "counts" / f"calls-{os.getpid()}.txt").open("a") as fh:
        fh.write("1\n")
    if int(case["i"]) >= LATE:
        with (root / "late" / "grow.log").open("ab") as fh:
            fh.write(LINE)
    time.sleep(0.001)
