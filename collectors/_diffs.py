"""Bounded unified diffs of consecutive snapshots of small watched files.

Only files up to ``diff_max_kb`` keep their previous content; each diff is cut at the
same size, and at most ``diff_keep`` diff files stay in ``run_dir/diffs/`` (the oldest
are deleted), so a day-long soak cannot fill the disk with them.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from pathlib import Path

from soakwatch.config.errors import SandboxError
from soakwatch.core.sandbox_fd import read_file

__all__ = ["DiffKeeper"]

KB = 1024


class DiffKeeper:
    """Previous snapshot contents of small files and the diff files written so far."""

    def __init__(self, run_dir: Path, max_kb: float, keep: int, root: Path | None = None) -> None:
        self.dir = run_dir / "diffs"
        #: the sandbox root: files are read through it without following links (a watched file
        #: swapped for a link to a private file elsewhere is never copied into the run dir)
        self.root = root
        self.max_bytes = int(max_kb * KB)
        self.keep = keep
        self._prev: dict[str, bytes | None] = {}
        self._written: deque[Path] = deque()
        self.count = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and self.keep > 0

    def _read(self, path: Path) -> bytes | None:
        try:
            if self.root is not None:
                got = read_file(self.root, path, "watch.files", self.max_bytes + 1)
                if got is None:
                    return None
                data = got
            else:
                with path.open("rb") as fh:
                    data = fh.read(self.max_bytes + 1)
        except (OSError, SandboxError):
            return None
        return data if len(data) <= self.max_bytes else None

    def remember(self, key: str, path: Path) -> None:
        """Take the current content as the base of the next diff (start, after a truncation)."""
        if self.enabled:
            self._prev[key] = self._read(path)

    def snapshot(self, key: str, path: Path, previous: str, label: str) -> Path | None:
        """Write the diff of ``key`` since the previous snapshot; returns the file, if any was written."""
        if not self.enabled:
            return None
        old = self._prev.get(key)
        new = self._read(path)
        self._prev[key] = new
        if old is None or new is None or old == new:
            return None
        lines = difflib.unified_diff(
            old.decode("utf-8", "replace").splitlines(keepends=True),
            new.decode("utf-8", "replace").splitlines(keepends=True),
            f"{previous}/{key}",
            f"{label}/{key}",
        )
        text = "".join(lines)
        if len(text) > self.max_bytes:
            text = text[: self.max_bytes] + f"\n... diff cut at {self.max_bytes // KB} KB\n"
        self.dir.mkdir(exist_ok=True)
        out = self.dir / f"{label}__{re.sub(r'[^A-Za-z0-9._-]+', '_', key)}.diff"
        out.write_text(text, encoding="utf-8")
        self.count += 1
        self._written.append(out)
        while len(self._written) > self.keep:
            self._written.popleft().unlink(missing_ok=True)
        return out
