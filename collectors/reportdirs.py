"""JSON report folders: a folder per node where the system under test writes JSON files.

New or rewritten files matching the pattern (``epoch-*.json``) are read when
watchfiles reports them; a file that does not parse yet (half-written) is retried
every :data:`RETRY_S` seconds up to :data:`MAX_ATTEMPTS` times, then counted as a
corrupt read (one ``corrupt_read`` event) until it changes again. Fields are taken by
dotted path (``node_snapshot.consensus.committed_height``); booleans become 1/0.

Series: ``<field>[<name>]`` (the value from the newest file read), ``reports_read[<name>]``
and ``corrupt_reads[<name>]``; every value also goes to ``sources/<name>.csv``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soakwatch.collectors._paths import MISSING, extract, to_number
from soakwatch.collectors._sampler import Sampler
from soakwatch.collectors._sources import SourceLog
from soakwatch.collectors._watcher import DirWatcher
from soakwatch.config.collectors import ReportFolderConfig
from soakwatch.core.plugins import StageContext, Verdict

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile

__all__ = ["MAX_ATTEMPTS", "RETRY_S", "ReportFolderCollector", "where_reports"]

RETRY_S = 0.5
MAX_ATTEMPTS = 6
#: files remembered (name -> stat) so an unchanged file is not read twice
MAX_TRACKED = 100_000
#: largest report file read
FILE_MAX = 16 << 20

StatKey = tuple[int, int]


def _counters(raw: object) -> dict[str, float]:
    """A JSON object of numbers by key ({"timeout": 3, "bad_proof": 1}), else {}."""
    if not isinstance(raw, dict) or not raw:
        return {}
    out = {
        str(k): n for k, v in raw.items() if re.fullmatch(r"[A-Za-z0-9_]+", str(k)) and (n := to_number(v)) is not None
    }
    return out if len(out) == len(raw) else {}


def folder_of(path: str, root: Path) -> Path:
    """A ``[[reports]]`` path: absolute as given, relative against the sandbox root (not the cwd)."""
    p = Path(path)
    return p if p.is_absolute() else root / p


def where_reports(profile: Profile, root: Path) -> list[str]:
    """For ``validate``: where each ``[[reports]]`` folder is looked for, and whether it is there yet."""
    out = []
    for r in profile.reports:
        folder = folder_of(r.path, root)
        state = "exists" if folder.is_dir() else "does not exist yet"
        out.append(f"reports {r.name}: {folder} ({state})")
    return out


class ReportFolderCollector(Sampler):
    """One ``[[reports]]`` entry. The sampler interval drives retries of half-written files."""

    interval = RETRY_S

    def __init__(self, cfg: ReportFolderConfig, folder: Callable[[StageContext], Path] | None = None) -> None:
        """``folder`` finds the folder when the stage prepares (a node's, which may be in the run dir)."""
        self.cfg = cfg
        self._folder_of = folder
        self.name = f"reports:{cfg.name}"
        self._lock = threading.Lock()
        self._done: dict[str, StatKey] = {}
        self._retry: dict[str, int] = {}
        self._given_up: dict[str, StatKey] = {}
        self._scanned = False
        self.read = 0
        self.corrupt = 0

    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        if self._folder_of is not None:
            self.folder = self._folder_of(ctx)
        else:
            self.folder = folder_of(self.cfg.path, Path(ctx.root))

    def start(self) -> None:
        self.log = SourceLog(self.ctx.run_dir, self.cfg.name)
        rec = self.ctx.recorder
        for field in self.cfg.fields:
            rec.declare(f"{field}[{self.cfg.name}]")
        rec.declare(f"reports_read[{self.cfg.name}]")
        super().start()
        self.watcher = DirWatcher(self.name, lambda: [self.folder], self._on_changes, self.failures, recursive=False)
        self.watcher.start()
        self._scan()

    def _matches(self, path: Path) -> bool:
        return path.parent == self.folder and fnmatch.fnmatch(path.name, self.cfg.pattern)

    def _scan(self) -> None:
        if not self.folder.is_dir():
            # it may appear later (a node creates it); until then the source is failing, visibly
            self.failures.failed("folder", f"{self.folder} does not exist", path=str(self.folder))
            return
        self._scanned = True
        self._handle([p for p in self.folder.glob(self.cfg.pattern) if p.is_file()])

    def _on_changes(self, paths: set[Path]) -> None:
        self._handle([p for p in paths if self._matches(p)])

    def _handle(self, paths: list[Path]) -> None:
        def order(p: Path) -> tuple[float, str]:
            try:
                return (p.stat().st_mtime, p.name)
            except OSError:
                return (0.0, p.name)

        with self._lock:
            for p in sorted(paths, key=order):
                self._read(p)

    def _read(self, path: Path) -> None:
        loaded = self._load(path)
        if loaded is None:
            return
        key, data = loaded
        self._retry.pop(path.name, None)
        self._given_up.pop(path.name, None)
        self._done[path.name] = key
        if len(self._done) > MAX_TRACKED:
            del self._done[next(iter(self._done))]
        self.read += 1
        self.failures.ok("folder")
        values = self._values(data, path)
        rec = self.ctx.recorder
        for field, v in values.items():
            rec.set(f"{field}[{self.cfg.name}]", v)
        rec.set(f"reports_read[{self.cfg.name}]", self.read)
        self.log.write(self.ctx.events.elapsed(), {**values, "_reports_read": float(self.read)})

    def _load(self, path: Path) -> tuple[StatKey, Any] | None:
        """The report's (size, mtime) and parsed JSON; None when unchanged, gone, or not readable yet."""
        try:
            st = path.stat()
        except FileNotFoundError:
            self._retry.pop(path.name, None)
            return None
        key = (st.st_size, st.st_mtime_ns)
        if self._done.get(path.name) == key or self._given_up.get(path.name) == key:
            return None
        try:
            with path.open("rb") as fh:
                return key, json.loads(fh.read(FILE_MAX))
        except FileNotFoundError:
            self._retry.pop(path.name, None)
            return None
        except (OSError, ValueError) as exc:
            self._unreadable(path, key, exc)
            return None

    def _unreadable(self, path: Path, key: StatKey, exc: Exception) -> None:
        """Retry a report that did not read; after MAX_ATTEMPTS give it up as a corrupt read."""
        attempts = self._retry.get(path.name, 0) + 1
        if attempts < MAX_ATTEMPTS:
            self._retry[path.name] = attempts
            return
        self._retry.pop(path.name, None)
        self._given_up[path.name] = key
        self.corrupt += 1
        self.ctx.recorder.set(f"corrupt_reads[{self.cfg.name}]", self.corrupt)
        self.ctx.events.emit(
            "corrupt_read",
            f"report {self.cfg.name}/{path.name}: still unreadable after {attempts} reads: {exc}",
            "warn",
            source=self.cfg.name,
            file=str(path),
            error=str(exc),
        )

    def _values(self, data: Any, path: Path) -> dict[str, float]:
        """The numeric fields of one report; text fields go to the recorder as text, for text gates."""
        values: dict[str, float] = {}
        for field, dotted in self.cfg.fields.items():
            raw = extract(data, dotted)
            v = None if raw is MISSING else to_number(raw)
            if v is None and isinstance(raw, str):
                self.ctx.recorder.set_text(f"{field}[{self.cfg.name}]", raw)  # a status: for text gates
                self.failures.ok(f"field {field}")
                continue
            counters = _counters(raw)
            if counters:  # a dict of counters (failure_reasons): one series per key, field.KEY[source]
                values.update({f"{field}.{k}": n for k, n in counters.items()})
                self.failures.ok(f"field {field}")
                continue
            if v is None:
                self.failures.failed(f"field {field}", f"{dotted!r} missing or not a number in {path.name}")
                continue
            self.failures.ok(f"field {field}")
            values[field] = v
        return values

    def sample(self) -> None:
        """Retry half-written files; pick the folder up when it appears (and rescan when it is re-created)."""
        watcher = getattr(self, "watcher", None)
        if (watcher is not None and watcher.poke()) or not self._scanned:
            self._scan()
            return
        with self._lock:
            pending = list(self._retry)
        if pending:
            self._handle([self.folder / name for name in pending])

    def stop(self) -> None:
        watcher = getattr(self, "watcher", None)
        if watcher is not None:
            watcher.stop()
        super().stop()
        self._scan()  # files written just before the end
        self.log.close()

    def verdict(self) -> Verdict:
        v = super().verdict()
        if self.read == 0 and self.folder.is_dir():
            why = f"reports {self.cfg.name}: no report matching {self.cfg.pattern!r} in {self.folder}"
            return Verdict(caveats=(*v.caveats, why))
        return v
