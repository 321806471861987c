"""Incremental line counting (and JSON checking) of one file.

The cost of a refresh follows what changed, not the size of the file: an append is
counted by reading only the bytes after the last offset. A rewrite is detected and
recounted from the start when the file's inode changes (atomic ``os.replace``), when
it shrinks (truncation), or when its first bytes differ from those seen before (an
in-place rewrite that kept the inode). An unchanged file (same inode, size and
mtime) is not read at all.

Lines are counted as ``str.splitlines`` would on ``\\n`` endings: the number of
newlines, plus one for a last line without its newline.

JSON files are checked in one of two modes, chosen when the whole file is read:
a *document* (``json.loads`` of the whole file, re-parsed on change while it is at
most :data:`JSON_DOC_MAX` bytes) or *JSON lines* (each newly completed line parsed as
it is appended). Content that parses neither way is a *corrupt read*: counted, and
reported by the caller; never an exception.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

__all__ = ["HEAD_BYTES", "JSON_DOC_MAX", "LineTracker", "Refresh"]

#: bytes at the head of a file compared on each refresh to tell an append from a rewrite
HEAD_BYTES = 4096
#: read size when counting
CHUNK = 1 << 20
#: JSON documents larger than this are not re-parsed on change (lines mode has no limit)
JSON_DOC_MAX = 8 << 20
#: a JSON line longer than this without its newline is not kept for parsing
PENDING_MAX = 1 << 20

Kind = Literal["none", "created", "append", "rewrite", "removed"]


@dataclass(frozen=True)
class Refresh:
    """What one refresh found."""

    kind: Kind
    corrupt: str | None = None  # the parse error of a corrupt read


class LineTracker:
    """Size, line count and JSON state of one file, kept current by :meth:`refresh`."""

    def __init__(self, path: Path, check_json: bool | None = None) -> None:
        self.path = path
        self.check_json = path.suffix.lower() == ".json" if check_json is None else check_json
        self.exists = False
        self.size = 0
        self.newlines = 0
        self.last_nl = True
        self.json_ok: bool | None = None
        self.json_mode: Literal["doc", "lines"] | None = None
        self.corrupt_reads = 0
        self.recounts = 0
        self._key: tuple[int, int] | None = None
        self._mtime_ns = 0
        self._head = b""
        self._pending = b""

    @property
    def lines(self) -> int:
        return self.newlines + (0 if self.last_nl or self.size == 0 else 1)

    def _clear(self) -> None:
        self.size = self.newlines = 0
        self.last_nl = True
        self.json_ok = None
        self.json_mode = None
        self._head = self._pending = b""

    def refresh(self) -> Refresh:
        """Bring the counts up to date with the file on disk."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            if self.exists:
                self.exists = False
                self._key = None
                self._clear()
                return Refresh("removed")
            return Refresh("none")
        with fh:
            st = os.fstat(fh.fileno())
            key = (st.st_dev, st.st_ino)
            if self.exists and key == self._key and st.st_size == self.size and st.st_mtime_ns == self._mtime_ns:
                return Refresh("none")
            created = not self.exists
            rewrite = created or key != self._key or st.st_size < self.size
            rewrite = rewrite or self._read_head(fh, len(self._head)) != self._head
            self.exists = True
            self._key = key
            self._mtime_ns = st.st_mtime_ns
            if rewrite:
                corrupt = self._recount(fh, st.st_size)
                return Refresh("created" if created else "rewrite", corrupt)
            corrupt = self._append(fh, st.st_size)
            return Refresh("append", corrupt)

    @staticmethod
    def _read_head(fh: BinaryIO, n: int) -> bytes:
        fh.seek(0)
        return fh.read(n)

    # ---------------------------------------------------------------- counting
    def _recount(self, fh: BinaryIO, size: int) -> str | None:
        self.recounts += 1
        self._clear()
        fh.seek(0)
        keep = self.check_json and size <= JSON_DOC_MAX
        parts: list[bytes] = []
        read = 0
        while read < size:
            chunk = fh.read(min(CHUNK, size - read))
            if not chunk:
                break
            read += len(chunk)
            self.newlines += chunk.count(b"\n")
            self.last_nl = chunk.endswith(b"\n")
            if len(self._head) < HEAD_BYTES:
                self._head += chunk[: HEAD_BYTES - len(self._head)]
            if keep:
                parts.append(chunk)
        self.size = read
        if not self.check_json or read == 0:
            return None
        if keep:
            return self._detect(b"".join(parts))
        # too large to parse whole: taken as JSON lines, and the lines appended from now on are checked
        self.json_mode = "lines"
        self.json_ok = True
        return None

    def _append(self, fh: BinaryIO, size: int) -> str | None:
        fh.seek(self.size)
        corrupt: str | None = None
        mode = self.json_mode
        read = self.size
        while read < size:
            chunk = fh.read(min(CHUNK, size - read))
            if not chunk:
                break
            read += len(chunk)
            self.newlines += chunk.count(b"\n")
            self.last_nl = chunk.endswith(b"\n")
            if len(self._head) < HEAD_BYTES:
                self._head += chunk[: HEAD_BYTES - len(self._head)]
            if self.check_json and mode == "lines":
                corrupt = self._parse_lines(chunk) or corrupt
        self.size = read
        if self.check_json and mode != "lines" and self.size <= JSON_DOC_MAX:
            fh.seek(0)
            corrupt = self._detect(fh.read(self.size))
        return corrupt

    # ---------------------------------------------------------------- JSON
    def _corrupt(self, error: str) -> str:
        self.json_ok = False
        self.corrupt_reads += 1
        return error

    def _detect(self, content: bytes) -> str | None:
        """Choose the JSON mode from the whole content; returns the error of a corrupt read."""
        self._pending = b""
        if not content.strip():
            self.json_ok, self.json_mode = None, None
            return None
        try:
            json.loads(content)
        except ValueError as exc:
            doc_error = _describe(exc)
        else:
            self.json_ok, self.json_mode = True, "doc"
            return None
        complete, _, tail = content.rpartition(b"\n")
        lines = [ln for ln in complete.split(b"\n") if ln.strip()]
        if len(lines) >= 2 or (lines and tail.strip()):
            for i, line in enumerate(lines, 1):
                try:
                    json.loads(line)
                except ValueError as exc:
                    self.json_mode = None
                    return self._corrupt(f"line {i}: {_describe(exc)}")
            self.json_ok, self.json_mode = True, "lines"
            self._pending = tail[:PENDING_MAX]
            return None
        self.json_mode = None
        return self._corrupt(doc_error)

    def _parse_lines(self, chunk: bytes) -> str | None:
        data = self._pending + chunk
        complete, _, tail = data.rpartition(b"\n")
        self._pending = tail if len(tail) <= PENDING_MAX else b""
        error: str | None = None
        for line in complete.split(b"\n"):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError as exc:
                error = self._corrupt(_describe(exc))
        if error is None and complete:
            self.json_ok = True
        return error


def _describe(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)
