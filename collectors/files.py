"""Watched files: size, line count and JSON health of the engine's state logs, with snapshots,
size policies (warn, truncate, reset, backup) and the integrity of files that must not change.

Threads and locks: a :class:`~collectors._watcher.DirWatcher` thread refreshes a file's
:class:`~collectors._linetrack.LineTracker` when watchfiles reports it changed; the
runner thread calls :meth:`FilesCollector.on_barrier` at call-count barriers, where
every file is refreshed synchronously (a ``stat`` and the appended bytes) so the
snapshot's Δ lines are exact; the stage thread publishes series on each tick. One
lock guards the trackers and the snapshot state.

Δ lines of a snapshot are the lines added since the previous snapshot; when a policy
truncated the file in between, since the truncation (the event says so).
"""

from __future__ import annotations

import fnmatch
import math
import threading
from collections import deque
from pathlib import Path
from typing import Any

from soakwatch.collectors import actions
from soakwatch.collectors._diffs import DiffKeeper
from soakwatch.collectors._files_snapshot import file_snapshot
from soakwatch.collectors._files_view import KB, ROWS_SHOWN, replay_files
from soakwatch.collectors._files_warnings import emit_read_warnings
from soakwatch.collectors._linetrack import LineTracker
from soakwatch.collectors._sampler import FailureReporter
from soakwatch.collectors._watcher import DirWatcher
from soakwatch.collectors.integrity import Integrity
from soakwatch.config.collectors import WatchConfig
from soakwatch.config.errors import SandboxError
from soakwatch.core.plugins import Plugin, StageContext
from soakwatch.core.sandbox import check_glob, glob_inside, has_magic, inside, static_prefix
from soakwatch.core.snapshot import FileView, SnapshotRow

__all__ = ["FilesCollector"]

#: snapshot rows kept in memory (the full history is in events.jsonl)
ROWS_KEPT = 400
#: seconds between two globbing rescans on ticks: a file created before the notifier's watch was
#: up (it starts in its own thread) or while it restarted has no notification, and is found here
GLOB_RESCAN_S = 2.0


class FilesCollector(Plugin):
    """The ``[watch]`` section of a profile."""

    name = "files"

    def __init__(self, cfg: WatchConfig) -> None:
        self.cfg = cfg
        self._lock = threading.RLock()
        self.trackers: dict[str, LineTracker] = {}
        self._start: dict[str, tuple[int, int]] = {}
        self._snap_lines: dict[str, int] = {}
        #: files soakwatch truncated since the last snapshot: key -> (why, lines before, lines removed)
        self._truncated: dict[str, tuple[str, int, int]] = {}
        self._rows: deque[SnapshotRow] = deque(maxlen=ROWS_KEPT)
        self._last_label = ""
        self._last_calls = 0
        self._last_snap_t = 0.0
        self._last_glob_t = -GLOB_RESCAN_S
        self._trunc_calls = 0
        self.integrity: Integrity | None = None
        self.watcher: DirWatcher | None = None
        self.snapshots = 0

    # ---------------------------------------------------------------- setup
    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        cfg = self.cfg
        self.root = Path(ctx.root).resolve()
        self.failures = FailureReporter(ctx.events, self.name)
        # check every path before acting on any, so a refused profile leaves the sandbox untouched
        for i, pattern in enumerate(cfg.files):
            check_glob(self.root, pattern, f"watch.files[{i}]")
            if has_magic(pattern):
                glob_inside(self.root, pattern, f"watch.files[{i}]")
            else:
                inside(self.root, pattern, f"watch.files[{i}]")
        actions.check_reset(self.root, cfg.reset_before)
        actions.plan_paths(self.root, cfg.backup_before, "watch.backup_before")
        if cfg.unchanged:
            self.integrity = Integrity(self.root, cfg.unchanged, ctx.events)
            self.integrity.check_paths()
        self.diffs = DiffKeeper(ctx.run_dir, cfg.diff_max_kb, cfg.diff_keep, root=self.root)
        ctx.commands["truncate"] = self.command_truncate

    def act(self) -> None:
        """Reset and back up once every check of the stage has passed; then the integrity baseline."""
        cfg, ctx = self.cfg, self.ctx
        if cfg.reset_before:
            actions.reset(self.root, cfg.reset_before, ctx.events)
        if cfg.backup_before:
            actions.backup(self.root, cfg.backup_before, ctx.run_dir, ctx.events)
        if self.integrity is not None:
            n = self.integrity.take_baseline()
            ctx.events.emit(
                "integrity",
                f"integrity: baseline of {n} files ({', '.join(cfg.unchanged)})",
                "info",
                change="baseline",
                files=n,
                patterns=cfg.unchanged,
            )

    def barrier_every(self) -> int | None:
        every = [e for e in (self.cfg.snapshot_every, self._truncate_every()) if e]
        return math.gcd(*every) if every else None

    def _truncate_every(self) -> int | None:
        if self.cfg.truncate_over_kb is None:
            return None
        return self.cfg.truncate_every or self.cfg.snapshot_every

    def start(self) -> None:
        rec = self.ctx.recorder
        with self._lock:
            self._discover()
            for key, tr in self.trackers.items():
                self._refresh(key)
                self._start[key] = (tr.lines, tr.size)
                self._snap_lines[key] = tr.lines
                self.diffs.remember(key, tr.path)
                rec.declare(f"size_kb[{key}]", "KB")
                rec.declare(f"lines[{key}]")
                if self.cfg.snapshot_every or self.cfg.snapshot_interval:
                    rec.declare(f"delta_lines[{key}]")
                if tr.check_json:
                    rec.declare(f"corrupt_reads[{key}]")
            if self.integrity is not None:
                rec.set("files_changed", 0.0)
            self._last_label = self._label(0)
            self._publish()
        if self.cfg.files:
            self.watcher = DirWatcher(
                self.name, self._watch_dirs, self._on_changes, self.failures, recursive=self._recursive()
            )
            self.watcher.start()

    def _label(self, calls: int) -> str:
        return f"{self.ctx.profile.name}_{calls}"

    # ---------------------------------------------------------------- discovery
    def _watch_dirs(self) -> list[Path]:
        out = []
        for pattern in self.cfg.files:
            prefix = static_prefix(pattern)
            p = Path(prefix) if has_magic(pattern) else Path(pattern).parent
            out.append(p if p.is_absolute() else self.root / p)
        return out

    def _recursive(self) -> bool:
        return any(has_magic(str(Path(p).parent)) or "**" in p for p in self.cfg.files)

    def _key(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def _discover(self) -> None:
        for i, pattern in enumerate(self.cfg.files):
            field = f"watch.files[{i}]"
            if not has_magic(pattern):
                key = str(Path(pattern))
                if key not in self.trackers:
                    p = Path(pattern)
                    self.trackers[key] = LineTracker(p if p.is_absolute() else self.root / p)
                continue
            try:
                matches = glob_inside(self.root, pattern, field)
            except SandboxError as exc:  # a symlink out of the root appeared during the stage
                self.failures.failed(pattern, str(exc))
                continue
            for p in matches:
                key = self._key(p)
                if key not in self.trackers and not p.is_dir():
                    self.trackers[key] = LineTracker(p)
                    self._snap_lines.setdefault(key, 0)
                    self._start.setdefault(key, (0, 0))

    def _on_changes(self, paths: set[Path]) -> None:
        with self._lock:
            new = False
            for p in paths:
                key = self._key(p)
                if key in self.trackers:
                    self._refresh(key)
                elif any(fnmatch.fnmatch(key, pat) for pat in self.cfg.files):
                    new = True
            if new:
                self._discover()
                for key in self.trackers:
                    self._refresh(key)

    def _refresh(self, key: str) -> None:
        tr = self.trackers[key]
        warn = self.cfg.warn_size_kb
        was_over = warn is not None and tr.exists and tr.size > warn * KB
        try:
            r = tr.refresh()
        except OSError as exc:
            self.failures.failed(key, f"{type(exc).__name__}: {exc}")
            return
        self.failures.ok(key)
        emit_read_warnings(self.ctx.events, key, tr, r.corrupt, warn, was_over)

    def _refresh_all(self) -> None:
        self._discover()
        for key in list(self.trackers):
            self._refresh(key)

    # ---------------------------------------------------------------- ticks and barriers
    def tick(self, t: float) -> None:
        if self.watcher is not None:
            self.watcher.poke()
        with self._lock:
            if t - self._last_glob_t >= GLOB_RESCAN_S:
                self._last_glob_t = t
                known = len(self.trackers)
                self._discover()
                for key in list(self.trackers)[known:]:  # new matches of a glob: read them now
                    self._refresh(key)
            if self.cfg.snapshot_interval and t - self._last_snap_t >= self.cfg.snapshot_interval:
                self._refresh_all()
                self._snapshot(self.ctx.calls())
            if self.cfg.truncate_over_kb is not None and self._truncate_every() is None:
                self._refresh_all()
                self._apply_truncation(f"t={t:.0f}s")
            self._publish()

    def on_barrier(self, calls: int) -> None:
        with self._lock:
            prev = self._last_calls
            self._refresh_all()
            every = self.cfg.snapshot_every
            if every and calls // every > prev // every:
                self._snapshot(calls)
            tevery = self._truncate_every()
            if tevery and calls // tevery > self._trunc_calls // tevery:
                self._apply_truncation(f"call {calls}")
                self._trunc_calls = calls
            self._publish()

    def _snapshot(self, calls: int) -> None:
        label = self._label(calls)
        t = self.ctx.events.elapsed()
        names = [Path(k).name for k in self.trackers]
        short = len(set(names)) == len(names)
        files: dict[str, dict[str, Any]] = {}
        parts: list[str] = []
        for key, tr in sorted(self.trackers.items()):
            cut = self._truncated.get(key)
            diff = None
            if tr.size <= self.diffs.max_bytes:
                diff = self.diffs.snapshot(key, tr.path, self._last_label, label)
            row, files[key] = file_snapshot(
                key,
                tr,
                lines_before=self._snap_lines.get(key, 0),
                cut=cut,
                label=label,
                previous=self._last_label,
                calls=calls,
                t=t,
                diff=diff,
            )
            self._rows.append(row)
            if self._last_label != self._label(0) and cut is None:
                # Δ between two snapshots; the first one counts from the stage start, so a file the
                # stage created or `reset_before` emptied would read as growth: it is not a Δ to judge
                self.ctx.recorder.set(f"delta_lines[{key}]", row.delta)
            shown = Path(key).name if short else key
            parts.append(f"{shown} Δ={row.delta:+d} lines" + (f" ({row.note}; not judged)" if cut is not None else ""))
            self._snap_lines[key] = tr.lines
        self._truncated.clear()
        self.ctx.events.emit(
            "snapshot",
            f"{self._last_label} → {label}: " + (", ".join(parts) or "no watched files yet"),
            "info",
            label=label,
            previous=self._last_label,
            calls=calls,
            files=files,
        )
        self.snapshots += 1
        if self.integrity is not None:
            self._check_integrity(label)
        self._last_label = label
        self._last_calls = calls
        self._last_snap_t = t

    def _check_integrity(self, label: str, full: bool = False) -> None:
        assert self.integrity is not None
        try:
            self.integrity.check(label, full=full)
        except (OSError, SandboxError) as exc:
            self.failures.failed("integrity", f"{type(exc).__name__}: {exc}")
        self.ctx.recorder.set("files_changed", self.integrity.changed)

    def _apply_truncation(self, when: str) -> None:
        over = self.cfg.truncate_over_kb
        assert over is not None
        for key, tr in sorted(self.trackers.items()):
            if tr.exists and tr.size > over * KB:
                self._truncate(key, f"over {over:g} KB at {when}")

    def _truncate(self, key: str, reason: str) -> int:
        tr = self.trackers[key]
        before = tr.lines
        removed = actions.truncate(self.root, tr.path, self.ctx.events, reason, lines=tr.lines)
        self._refresh(key)
        self._snap_lines[key] = tr.lines
        earlier = self._truncated.get(key)
        gone = before - tr.lines + (earlier[2] if earlier is not None else 0)
        self._truncated[key] = (reason, earlier[1] if earlier is not None else before, gone)
        self.diffs.remember(key, tr.path)
        return removed

    # ---------------------------------------------------------------- operator
    def command_truncate(self, args: dict[str, Any]) -> str:
        """Operator ``truncate``: the named watched files (``{"files": [...]}``) or every existing one."""
        with self._lock:
            self._refresh_all()
            wanted = args.get("files") or [k for k, tr in self.trackers.items() if tr.exists]
            done, size = 0, 0
            for name in wanted:
                key = str(name)
                try:
                    inside(self.root, key, "truncate.files")
                except SandboxError as exc:
                    self.ctx.events.emit("truncate_refused", str(exc), "error", file=key)
                    return f"refused: {exc}"
                if key not in self.trackers:
                    return f"not a watched file: {key}"
                size += self._truncate(key, "operator")
                done += 1
            self._publish()
        return f"truncated {done} file{'s' if done != 1 else ''} ({size / KB:.1f} KB)"

    # ---------------------------------------------------------------- output
    def _publish(self) -> None:
        rec = self.ctx.recorder
        for key, tr in self.trackers.items():
            rec.set(f"size_kb[{key}]", tr.size / KB if tr.exists else math.nan, "KB")
            rec.set(f"lines[{key}]", tr.lines if tr.exists else math.nan)
            if tr.check_json:
                rec.set(f"corrupt_reads[{key}]", tr.corrupt_reads)

    def view(self) -> dict[str, Any]:
        warn = self.cfg.warn_size_kb
        with self._lock:
            files = [
                FileView(
                    path=key,
                    size=tr.size,
                    lines=tr.lines,
                    growth_lines=tr.lines - self._start.get(key, (0, 0))[0],
                    growth_bytes=tr.size - self._start.get(key, (0, 0))[1],
                    json_ok=tr.json_ok,
                    corrupt_reads=tr.corrupt_reads,
                    over_warn=warn is not None and tr.size > warn * KB,
                    exists=tr.exists,
                )
                for key, tr in sorted(self.trackers.items())
            ]
            rows = list(self._rows)[-ROWS_SHOWN:][::-1]
        return {"files": files, "snapshots": rows}

    replay = staticmethod(replay_files)  # the recorded counterpart of view()

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        with self._lock:
            self._refresh_all()
            snapshots = self.cfg.snapshot_every or self.cfg.snapshot_interval
            calls = self.ctx.calls()
            if snapshots and calls != self._last_calls:
                self._snapshot(calls)
            if self.integrity is not None:
                label = f"{self._label(calls)}_end"
                self._check_integrity(label, full=True)
                changed = sorted(self.integrity.state)
                self.ctx.events.emit(
                    "integrity",
                    f"integrity: final check of {len(self.integrity.baseline)} files: "
                    + (f"{len(changed)} changed ({', '.join(changed[:5])})" if changed else "unchanged"),
                    "warn" if changed else "info",
                    change="final",
                    files=len(self.integrity.baseline),
                    changed=changed,
                    states=dict(self.integrity.state),
                )
            self._publish()
