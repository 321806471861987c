"""File actions relative to a directory that never follow a link (the sandbox's walk).

POSIX: a :data:`Dir` is a directory descriptor and every step is ``os.open(...,
O_NOFOLLOW, dir_fd=...)``, so a link swapped in on the way is refused at the moment of
acting. Windows has neither ``O_NOFOLLOW`` nor ``dir_fd``: a :data:`Dir` is the directory's
path and every step is checked with ``lstat`` and its reparse-point attribute
(``st_file_attributes``: symlinks and junctions alike) just before it is used, which
narrows the race to the moment between that check and the open instead of closing it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from soakwatch.core.platform import _win

__all__ = ["Dir", "close_dir", "lstat_at", "mkdir_at", "open_at", "open_dir", "open_dir_at", "replace_at", "unlink_at"]

#: an open directory: a descriptor (POSIX) or a checked path (Windows)
Dir = int | str


def _check(path: str, want_dir: bool) -> None:
    """Windows: ELOOP for a link or reparse point, ENOTDIR for a non-directory where one is wanted."""
    st = os.lstat(path)
    _win.check_component(st, getattr(st, "st_file_attributes", 0), path, want_dir)


def open_dir(path: Path) -> Dir:
    if sys.platform == "win32":
        _check(str(path), want_dir=True)
        return str(path)
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def open_dir_at(d: Dir, name: str) -> Dir:
    """The directory ``name`` in ``d``; OSError ELOOP when it is a link, ENOTDIR when not a directory."""
    if sys.platform == "win32" or isinstance(d, str):
        path = os.path.join(str(d), name)
        _check(path, want_dir=True)
        return path
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=d)


def close_dir(d: Dir) -> None:
    if isinstance(d, int):
        os.close(d)


def mkdir_at(d: Dir, name: str, mode: int = 0o755) -> None:
    if sys.platform == "win32" or isinstance(d, str):
        os.mkdir(os.path.join(str(d), name), mode)
        return
    os.mkdir(name, mode, dir_fd=d)


def open_at(d: Dir, name: str, flags: int, mode: int = 0o644) -> int:
    """``os.open`` of ``name`` in ``d``: never through a link (OSError ELOOP), not inherited, non-blocking."""
    if sys.platform == "win32" or isinstance(d, str):
        path = os.path.join(str(d), name)
        try:
            _check(path, want_dir=False)
        except FileNotFoundError:
            if not flags & os.O_CREAT:
                raise
        return os.open(path, flags | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOINHERIT", 0), mode)
    return os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode, dir_fd=d)


def lstat_at(d: Dir, name: str) -> os.stat_result:
    if sys.platform == "win32" or isinstance(d, str):
        return os.lstat(os.path.join(str(d), name))
    return os.stat(name, dir_fd=d, follow_symlinks=False)


def unlink_at(d: Dir, name: str) -> None:
    if sys.platform == "win32" or isinstance(d, str):
        os.unlink(os.path.join(str(d), name))
        return
    os.unlink(name, dir_fd=d)


def replace_at(d: Dir, src: str, dst: str) -> None:
    if sys.platform == "win32" or isinstance(d, str):
        os.replace(os.path.join(str(d), src), os.path.join(str(d), dst))
        return
    os.replace(src, dst, src_dir_fd=d, dst_dir_fd=d)
