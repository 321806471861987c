"""File actions of the size policies: reset, backup, truncate. All stay inside the sandbox root.

Every path is resolved (symlinks, ``..``) with :mod:`soakwatch.core.sandbox` before it is
touched; every action is an event (``reset``, ``backup``, ``truncate``) so the summary
can count them. :func:`plan_paths` checks a whole list first, so a profile with one
bad path refuses the stage before any file was deleted or zipped.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import zipfile
from pathlib import Path

from soakwatch.config.errors import SandboxError, UsageError
from soakwatch.core.events import EventLog
from soakwatch.core.sandbox import glob_inside, has_magic, inside
from soakwatch.core.sandbox_fd import open_file, truncate_file, unlink_file

__all__ = ["backup", "check_reset", "plan_paths", "reset", "truncate"]

KB = 1024
#: bytes copied at a time into a backup archive
COPY_CHUNK = 1024 * 1024


def plan_paths(root: Path, patterns: list[str], field: str) -> list[Path]:
    """Every path the patterns name (literal paths whether or not they exist), each checked inside root."""
    out: list[Path] = []
    for i, pattern in enumerate(patterns):
        where = f"{field}[{i}]"
        if has_magic(pattern):
            out.extend(glob_inside(root, pattern, where))
        else:
            inside(root, pattern, where)
            p = Path(pattern)
            out.append(p if p.is_absolute() else Path(root).resolve() / p)
    return out


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def check_reset(root: Path, patterns: list[str]) -> list[Path]:
    """The paths ``reset_before`` would delete; UsageError for one outside the root or a directory."""
    paths = plan_paths(root, patterns, "watch.reset_before")
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            raise UsageError("is a directory; reset_before deletes files", field="watch.reset_before", value=str(p))
    return paths


def reset(root: Path, patterns: list[str], events: EventLog) -> list[Path]:
    """Delete the listed files (``reset_before``); a directory among them is refused first."""
    paths = check_reset(root, patterns)
    done: list[Path] = []
    for p in paths:
        rel = _rel(root, p)
        size = unlink_file(root, p, "watch.reset_before")  # again at the moment of acting, never through a link
        if size is None:
            events.emit("reset", f"reset {rel}: did not exist", "info", file=rel, existed=False, bytes=0)
            continue
        done.append(p)
        events.emit("reset", f"reset {rel}: deleted ({size / KB:.1f} KB)", "info", file=rel, existed=True, bytes=size)
    return done


def _zip_name(rel: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", rel).strip("_") or "root"


def backup(root: Path, patterns: list[str], run_dir: Path, events: EventLog) -> list[Path]:
    """Zip each listed folder or file into ``run_dir/backup/<name>.zip`` (``backup_before``).

    Every file is read through a descriptor opened from the root without following links:
    symlinks (and anything that is not a regular file) are skipped and counted, even one
    swapped in after the folder was listed; nothing under the run directory itself is archived.
    """
    base = Path(root).resolve()
    run = Path(run_dir).resolve()
    paths = plan_paths(base, patterns, "watch.backup_before")
    out_dir = run / "backup"
    written: list[Path] = []
    for src in paths:
        rel = _rel(base, src)
        if not src.exists():
            events.emit("backup", f"backup {rel}: does not exist, nothing saved", "warn", path=rel, files=0, bytes=0)
            continue
        out_dir.mkdir(exist_ok=True)
        dest = out_dir / f"{_zip_name(rel)}.zip"
        n = 2
        while dest.exists():
            dest = out_dir / f"{_zip_name(rel)}-{n}.zip"
            n += 1
        files = skipped = size = 0
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in _walk(src):
                if f.resolve().is_relative_to(run):
                    continue  # the run directory's own files are never archived
                got = _archive(zf, base, _rel(base, f))
                if got is None:
                    skipped += 1
                elif got >= 0:
                    files += 1
                    size += got
        written.append(dest)
        extra = f", {skipped} outside the root or run dir skipped" if skipped else ""
        events.emit(
            "backup",
            f"backup {rel}: {files} files ({size / KB:.1f} KB) → {_rel(run, dest)}{extra}",
            "info",
            path=rel,
            files=files,
            bytes=size,
            skipped=skipped,
            archive=str(dest),
        )
    return written


def _archive(zf: zipfile.ZipFile, base: Path, rel: str) -> int | None:
    """Add ``rel`` to the archive, read through a descriptor opened from the root without following
    links (a file swapped for a link since it was listed is refused then, never read through):
    its size; -1 when it is gone; None when refused (a link, or not a regular file)."""
    try:
        with open_file(base, rel, "watch.backup_before") as fh:
            if fh is None:
                return -1
            st = os.fstat(fh.fileno())
            info = zipfile.ZipInfo(rel, time.localtime(st.st_mtime)[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (st.st_mode & 0xFFFF) << 16
            with zf.open(info, "w") as out:
                shutil.copyfileobj(fh, out, COPY_CHUNK)
            return st.st_size
    except SandboxError:
        return None


def _walk(src: Path) -> list[Path]:
    if not src.is_dir():
        return [src]
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        dirnames.sort()
        out.extend(Path(dirpath) / name for name in sorted(filenames))
    return out


def truncate(
    root: Path, path: Path, events: EventLog, reason: str, *, field: str = "watch.files", lines: int | None = None
) -> int:
    """Truncate one file to zero bytes; returns the bytes removed (0 when it did not exist)."""
    real = inside(root, path, field)
    rel = _rel(root, path if path.is_absolute() else Path(root).resolve() / path)
    if real.is_dir():
        raise SandboxError("is a directory, not a log", field=field, value=str(path))
    # the path checked above may be swapped for a link before the truncation: act through a
    # descriptor of the root, never following a link, refusing hard-linked files
    size = truncate_file(root, path, field)
    if size is None:
        return 0
    events.emit(
        "truncate",
        f"truncate {rel}: {size / KB:.1f} KB{f', {lines} lines' if lines is not None else ''} removed ({reason})",
        "info",
        file=rel,
        bytes=size,
        lines=lines,
        reason=reason,
    )
    return size
