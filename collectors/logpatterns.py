"""Log patterns: matching lines of node logs, the target's output and watched text files.

``[[nodes]] patterns`` apply to that node's ``stdout.log`` and ``stderr.log``; ``[watch]
patterns`` to the target's output (``workers/worker-*.log``) and to the watched files.
A pattern is a regular expression (plain text matches itself) mapped to a level::

    patterns = { "block production halted" = "error", "unloaded" = "info" }

Every matching line counts in the series ``matches[PATTERN]`` (all sources together),
which gates can judge (``matches[block production halted] max == 0``), and becomes a
``log_match`` event (source, pattern, the line) at the pattern's level. Events are
rate-limited per source and pattern: :data:`EVENTS_PER_WINDOW` per
:data:`EVENT_WINDOW_S`; the lines left out are counted in the next event and at the
end (``suppressed``). failures.md lists the ``log_match`` lines around each failed
gate, by source.

Files are read incrementally on each tick (at most :data:`READ_LIMIT` bytes per file
per tick); files that exist when the stage starts are read from their end, so only
lines written during the stage count.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from soakwatch.core.events import Level
from soakwatch.core.plugins import Plugin, StageContext

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile

__all__ = ["EVENTS_PER_WINDOW", "EVENT_WINDOW_S", "LogPatterns", "wants_log_patterns"]

#: log_match events per (source, pattern) in each window; more are counted, not written
EVENTS_PER_WINDOW = 5
EVENT_WINDOW_S = 10.0
#: bytes read per file per tick at most
READ_LIMIT = 256 * 1024
#: characters of a matching line kept in its event
LINE_MAX = 300


@dataclass
class _Source:
    name: str
    #: a fixed file, or a glob under ``base`` (re-listed every tick)
    files: list[Path] | None
    glob: tuple[Path, str] | None
    patterns: Mapping[str, str]
    compiled: list[tuple[str, re.Pattern[str], str]] = field(default_factory=list)


def wants_log_patterns(profile: Profile) -> bool:
    return bool(profile.watch.patterns) or any(n.patterns for n in profile.nodes)


class LogPatterns(Plugin):
    """Tails the logs that have patterns and turns matching lines into events and counters."""

    name = "log_patterns"

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.sources: list[_Source] = []
        self.counts: dict[str, int] = {}
        self._offsets: dict[Path, int] = {}
        self._partial: dict[Path, str] = {}
        #: (source, pattern) -> (window start, events in it, suppressed since the last event)
        self._limit: dict[tuple[str, str], list[float]] = {}
        self.suppressed = 0

    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        p = self.profile
        for node in p.nodes:
            if node.patterns:
                d = ctx.run_dir / "nodes" / node.id
                self._add(_Source(node.id, [d / "stdout.log", d / "stderr.log"], None, dict(node.patterns)))
        if p.watch.patterns:
            pats = dict(p.watch.patterns)
            self._add(_Source("target", None, (ctx.run_dir / "workers", "worker-*.log"), pats))
            for pattern in p.watch.files:
                self._add(_Source(pattern, None, (ctx.root, pattern), pats))
        for src in self.sources:
            for path in self._files(src):  # what was there before the stage is not the stage's
                with contextlib.suppress(OSError):
                    self._offsets[path] = path.stat().st_size
        for pat in {pat for s in self.sources for pat in s.patterns}:
            self.counts[pat] = 0
            ctx.recorder.declare(f"matches[{pat}]")

    def _add(self, src: _Source) -> None:
        src.compiled = [(pat, re.compile(pat), level) for pat, level in src.patterns.items()]
        self.sources.append(src)

    @staticmethod
    def _files(src: _Source) -> list[Path]:
        if src.files is not None:
            return src.files
        assert src.glob is not None
        base, pattern = src.glob
        try:
            return sorted(p for p in base.glob(pattern) if p.is_file())
        except (OSError, ValueError):
            return []

    def tick(self, t: float) -> None:
        for src in self.sources:
            for path in self._files(src):
                for line in self._read(path):
                    self._match(src, path, line, t)
        for pat, n in self.counts.items():
            self.ctx.recorder.set(f"matches[{pat}]", float(n))

    def _read(self, path: Path) -> list[str]:
        try:
            size = path.stat().st_size
            off = self._offsets.get(path, 0)
            if size < off:  # truncated or replaced: start over
                off = 0
            if size == off:
                return []
            with path.open("rb") as fh:
                fh.seek(off)
                data = fh.read(READ_LIMIT)
        except OSError:
            return []
        self._offsets[path] = off + len(data)
        text = self._partial.pop(path, "") + data.decode("utf-8", "replace")
        *complete, rest = text.split("\n")
        if rest:
            self._partial[path] = rest
        return complete

    def _match(self, src: _Source, path: Path, line: str, t: float) -> None:
        for pat, rx, level in src.compiled:
            if not rx.search(line):
                continue
            self.counts[pat] += 1
            state = self._limit.setdefault((src.name, pat), [t, 0.0, 0.0])
            if t - state[0] >= EVENT_WINDOW_S:
                state[0], state[1] = t, 0.0
            if state[1] >= EVENTS_PER_WINDOW:
                state[2] += 1
                self.suppressed += 1
                continue
            state[1] += 1
            more, state[2] = int(state[2]), 0.0
            shown = line.strip()[:LINE_MAX]
            self.ctx.events.emit(
                "log_match",
                f"{src.name} ({path.name}): {shown}" + (f" (+{more} earlier lines not shown)" if more else ""),
                cast("Level", level),
                source=src.name,
                file=path.name,
                pattern=pat,
                line=shown,
                suppressed=more,
            )

    def stop(self) -> None:
        self.tick(self.ctx.events.elapsed())
        if self.suppressed:
            self.ctx.events.emit(
                "log_match_summary",
                f"{self.suppressed} matching log lines beyond the event limit were counted, not written",
                "info",
                counts=dict(self.counts),
                suppressed=self.suppressed,
            )
