"""Integrity of files that must not change (``watch.unchanged = ["dag/**"]``).

The sha256 of every matching file is recorded before the stage; the set is checked
again on every snapshot and, in full, at the end. A check rehashes a file only when
its stat (size, mtime, inode) moved since it was last hashed, so a snapshot of an
untouched DAG folder costs a few ``stat`` calls; the final check rehashes everything,
which also catches a rewrite that restored the old mtime. Each change of state of a
file (modified, added, removed, restored) is one ``integrity`` event naming the file
and the snapshot at which it was seen; ``files_changed`` counts the files that differ
from the baseline now.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from soakwatch.core.events import EventLog
from soakwatch.core.sandbox import check_glob, glob_inside

__all__ = ["Change", "Integrity"]

_BUF = 1 << 20


@dataclass(frozen=True)
class Change:
    file: str
    change: str  # modified | added | removed | restored
    label: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_BUF):
            h.update(chunk)
    return h.hexdigest()


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class Integrity:
    """sha256 baseline of the ``unchanged`` globs and the changes seen since."""

    def __init__(self, root: Path, patterns: list[str], events: EventLog) -> None:
        self.root = Path(root).resolve()
        self.patterns = patterns
        self.events = events
        for i, p in enumerate(patterns):
            check_glob(self.root, p, f"watch.unchanged[{i}]")
        self.baseline: dict[str, str] = {}
        self._seen: dict[str, tuple[tuple[int, int, int] | None, str | None]] = {}
        self.state: dict[str, str] = {}  # file -> current change state (absent when equal to baseline)
        self.checks = 0

    def _files(self) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for i, pattern in enumerate(self.patterns):
            for p in glob_inside(self.root, pattern, f"watch.unchanged[{i}]"):
                if p.is_file():
                    out[str(p.relative_to(self.root))] = p
        return out

    def check_paths(self) -> None:
        """Refuse (SandboxError) a match that resolves outside the root, before anything runs."""
        self._files()

    def take_baseline(self) -> int:
        """Hash every matching file; returns how many."""
        for rel, p in self._files().items():
            digest = _sha256(p)
            self.baseline[rel] = digest
            self._seen[rel] = (_stat_key(p), digest)
        return len(self.baseline)

    def _digest(self, rel: str, path: Path, full: bool) -> str | None:
        key = _stat_key(path)
        if key is None:
            return None
        seen = self._seen.get(rel)
        if not full and seen is not None and seen[0] == key:
            return seen[1]
        digest = _sha256(path)
        self._seen[rel] = (key, digest)
        return digest

    def check(self, label: str, *, full: bool = False) -> list[Change]:
        """Compare with the baseline; emit one event per file whose state changed."""
        self.checks += 1
        current = self._files()
        changes: list[Change] = []
        for rel in sorted(set(current) | set(self.baseline)):
            path = current.get(rel, self.root / rel)
            try:
                digest = self._digest(rel, path, full) if rel in current else None
            except OSError:
                digest = None
            base = self.baseline.get(rel)
            if base is None:
                now = "added" if digest is not None else None
            elif digest is None:
                now = "removed"
            else:
                now = "modified" if digest != base else None
            before = self.state.get(rel)
            if now == before:
                continue
            if now is None:
                del self.state[rel]
                change = Change(rel, "restored", label)
            else:
                self.state[rel] = now
                change = Change(rel, now, label)
            changes.append(change)
            self.events.emit(
                "integrity",
                f"integrity: {rel} {change.change} (seen at {label})",
                "info" if change.change == "restored" else "warn",
                file=rel,
                change=change.change,
                label=label,
                sha256_before=base,
                sha256_after=digest,
            )
        return changes

    @property
    def changed(self) -> int:
        return len(self.state)
