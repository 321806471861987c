"""Finding the processes a profile names: by pid file, by command-line pattern, with their children."""

from __future__ import annotations

import os
import re
from pathlib import Path

import psutil

from soakwatch.config.collectors import ProcessWatch
from soakwatch.config.errors import UsageError

__all__ = ["ProcessFinder", "validate_watch"]


def validate_watch(entries: list[ProcessWatch]) -> dict[str, re.Pattern[str]]:
    """Refuse entries without a way to find them, duplicate names and bad patterns."""
    seen: set[str] = set()
    patterns: dict[str, re.Pattern[str]] = {}
    for i, w in enumerate(entries):
        field = f"processes.watch[{i}]"
        if not w.pid_file and not w.pattern:
            raise UsageError("needs 'pid_file' or 'pattern'", field=field, value=w.name)
        if w.name in seen or w.name in ("monitor", "target") or w.name.startswith("worker-"):
            raise UsageError("name already used", field=f"{field}.name", value=w.name)
        seen.add(w.name)
        if w.pattern:
            try:
                patterns[w.name] = re.compile(w.pattern)
            except re.error as exc:
                msg = f"not a regular expression: {exc}"
                raise UsageError(msg, field=f"{field}.pattern", value=w.pattern) from None
    return patterns


class ProcessFinder:
    """Resolves one :class:`ProcessWatch` to a pid, remembering it while it stays alive."""

    def __init__(self, entry: ProcessWatch, root: Path, pattern: re.Pattern[str] | None) -> None:
        self.entry = entry
        self.pattern = pattern
        p = Path(entry.pid_file) if entry.pid_file else None
        self.pid_file = (p if p.is_absolute() else root / p) if p else None
        self._pid: int | None = None

    def find(self) -> int:
        """The pid now; raises LookupError with a reason when it cannot be found."""
        if self.pid_file is not None:
            try:
                text = self.pid_file.read_text().strip()
            except OSError as exc:
                raise LookupError(f"pid file {self.pid_file}: {exc.strerror or exc}") from None
            try:
                pid = int(text.split()[0])
            except (ValueError, IndexError):
                raise LookupError(f"pid file {self.pid_file}: not a pid: {text[:40]!r}") from None
            if not psutil.pid_exists(pid):
                raise LookupError(f"pid {pid} from {self.pid_file} is not running")
            return pid
        assert self.pattern is not None
        if self._pid is not None and self._matches(self._pid):
            return self._pid
        me = os.getpid()
        found = []
        for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
            info = proc.info
            if info["pid"] == me or not info.get("cmdline"):
                continue
            if self.pattern.search(" ".join(info["cmdline"])):
                found.append((info.get("create_time") or 0.0, info["pid"]))
        if not found:
            self._pid = None
            raise LookupError(f"no process matches {self.pattern.pattern!r}")
        self._pid = min(found)[1]  # the oldest: a supervisor rather than a short-lived helper
        return self._pid

    def _matches(self, pid: int) -> bool:
        assert self.pattern is not None
        try:
            return bool(self.pattern.search(" ".join(psutil.Process(pid).cmdline())))
        except psutil.Error:
            return False
