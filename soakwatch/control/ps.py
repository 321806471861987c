"""``soakwatch ps``: the stages running on this box, one line each.

The list comes from the per-user registry (:mod:`soakwatch.control.registry`, dead entries
dropped on the way); state, calls and elapsed time come from each stage's newest
snapshot over its control socket. A stage that does not answer in time is still
listed, with ``?`` for what it did not say.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from soakwatch.control.registry import Entry, running

__all__ = ["PsRow", "print_ps", "ps_rows"]

#: how long ``ps`` waits for one stage's snapshot
SNAPSHOT_TIMEOUT = 2.0


@dataclass(frozen=True)
class PsRow:
    """One running stage as ``ps`` shows it."""

    stage: str
    state: str
    calls: int | None
    elapsed: float | None
    pid: int
    run_dir: str


def _row(entry: Entry) -> PsRow:
    from soakwatch.control.client import ControlClient

    state, calls, elapsed = "?", None, None
    try:
        with ControlClient(entry.run_dir, timeout=SNAPSHOT_TIMEOUT) as client:
            client.request("subscribe")
            snap = client.next_snapshot(SNAPSHOT_TIMEOUT)
        if snap is not None:
            state, calls, elapsed = snap.state, snap.calls, snap.elapsed
    except Exception:  # a stage that ends or hangs mid-look is listed without its numbers
        pass
    return PsRow(entry.stage, state, calls, elapsed, entry.pid, str(entry.run_dir))


def ps_rows() -> list[PsRow]:
    """Every running stage of this user, oldest first."""
    return [_row(e) for e in running()]


def _elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def print_ps(out: TextIO | None = None) -> int:
    """Print the table (or a line saying none runs); always exit 0."""
    out = out or sys.stdout
    rows = ps_rows()
    if not rows:
        print("no soakwatch stage is running", file=out)
        return 0
    table = [("STAGE", "STATE", "CALLS", "ELAPSED", "PID", "RUN DIR")]
    table += [
        (r.stage, r.state, "?" if r.calls is None else str(r.calls), _elapsed(r.elapsed), str(r.pid), r.run_dir)
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    for row in table:
        cells = [row[i].rjust(widths[i]) if i in (2, 3, 4) else row[i].ljust(widths[i]) for i in range(5)]
        print("  ".join([*cells, row[5]]), file=out)
    return 0
