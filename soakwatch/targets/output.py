"""The target's output: the tail of the worker logs (stdout, stderr, fatal errors) for views.

Under process isolation every worker writes its stdout and stderr to
``workers/worker-<slot>.log``; this plugin reads what was appended since the last tick
(never the whole file) and keeps the newest lines for the snapshot's ``output``.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from soakwatch.core.plugins import Plugin, StageContext

__all__ = ["OutputTail"]

#: lines kept for views
TAIL_LINES = 200
#: bytes read per file per tick at most (a target printing in a loop must not stall the tick)
READ_LIMIT = 256 * 1024


class OutputTail(Plugin):
    """Tails ``workers/*.log`` incrementally."""

    name = "output"

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=TAIL_LINES)
        self._offsets: dict[Path, int] = {}
        self._partial: dict[Path, str] = {}

    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        self.dir = ctx.run_dir / "workers"

    def tick(self, t: float) -> None:
        for path in sorted(self.dir.glob("worker-*.log")):
            self._read(path)

    def _read(self, path: Path) -> None:
        try:
            size = path.stat().st_size
            off = self._offsets.get(path, 0)
            if size < off:
                off = 0
            if size == off:
                return
            with path.open("rb") as fh:
                fh.seek(off)
                data = fh.read(READ_LIMIT)
        except OSError:
            return
        self._offsets[path] = off + len(data)
        text = self._partial.pop(path, "") + data.decode("utf-8", "replace")
        *complete, rest = text.split("\n")
        if rest:
            self._partial[path] = rest
        tag = path.stem.removeprefix("worker-")
        self.lines.extend(f"[{tag}] {line}" for line in complete if line.strip())

    def view(self) -> dict[str, Any]:
        return {"output": list(self.lines)}

    def stop(self) -> None:
        self.tick(0.0)
