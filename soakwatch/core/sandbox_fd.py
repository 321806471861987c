"""File actions that cannot be raced out of the sandbox root.

:func:`soakwatch.core.sandbox.inside` checks a path; between that check and the action a
file can be swapped for a symlink (or a directory on the way for a link to ``/etc``). So
every action here starts from a directory descriptor of the root and opens each component
relative to the one before with ``O_NOFOLLOW`` (``dir_fd``): a link anywhere on the way is
refused at the moment of acting, not resolved. On top of that:

- a regular file with more than one hard link is refused for truncation: another name for
  it may lie outside the root, and truncating one name truncates them all;
- a replacement is written next to its target and renamed over it (``os.replace`` with
  ``dir_fd``), which replaces a symlink rather than writing through it.

Where ``O_NOFOLLOW``/``dir_fd`` do not exist (Windows) each step is checked with ``lstat``
and the reparse-point attribute instead (:mod:`soakwatch.core.platform._files`).

Refusals are :class:`~soakwatch.config.errors.SandboxError`, naming the field and the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import BinaryIO

from soakwatch.config.errors import SandboxError
from soakwatch.core import platform as plat

__all__ = ["open_file", "read_file", "replace_file", "truncate_file", "unlink_file"]


def _parts(root: Path, path: str | PurePath, field: str) -> list[str]:
    base = plat.resolve(Path(root))
    p = PurePath(path)
    if p.is_absolute():
        try:
            p = p.relative_to(base)
        except ValueError:
            raise SandboxError(
                f"{str(path)!r} is outside the sandbox root {base}", field=field, value=str(path)
            ) from None
    parts = [x for x in p.parts if x not in ("", ".")]
    if not parts or ".." in parts:
        raise SandboxError(f"{str(path)!r}: not a file path inside the root", field=field, value=str(path))
    return parts


@contextlib.contextmanager
def _parent(root: Path, path: str | PurePath, field: str, create: bool = False) -> Iterator[tuple[plat.Dir, str]]:
    """(descriptor of the directory holding the file, its name), every step taken without following links."""
    parts = _parts(root, path, field)
    fd = plat.open_dir(Path(root).resolve())
    try:
        for part in parts[:-1]:
            if create:
                with contextlib.suppress(FileExistsError):
                    plat.mkdir_at(fd, part, 0o755)
            try:
                nxt = plat.open_dir_at(fd, part)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise SandboxError(
                        f"{str(path)!r}: {part!r} on the way is a link or not a directory; "
                        "file actions never follow links",
                        field=field,
                        value=str(path),
                    ) from None
                raise
            plat.close_dir(fd)
            fd = nxt
        yield fd, parts[-1]
    finally:
        plat.close_dir(fd)


def _refuse_link(exc: OSError, path: str | PurePath, field: str) -> None:
    if exc.errno == errno.ELOOP:
        raise SandboxError(
            f"{str(path)!r} is a symbolic link; file actions never follow links", field=field, value=str(path)
        ) from None


def truncate_file(root: Path, path: str | PurePath, field: str) -> int | None:
    """Truncate to 0 bytes; the bytes removed, or None when the file does not exist."""
    with _parent(root, path, field) as (dfd, name):
        try:
            fd = plat.open_at(dfd, name, os.O_WRONLY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            _refuse_link(exc, path, field)
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SandboxError(f"{str(path)!r} is not a regular file", field=field, value=str(path))
            if st.st_nlink > 1:
                raise SandboxError(
                    f"{str(path)!r} has {st.st_nlink} hard links: truncating it would truncate every other name "
                    "of the file, which may be outside the root",
                    field=field,
                    value=str(path),
                )
            os.ftruncate(fd, 0)
            return st.st_size
        finally:
            os.close(fd)


def unlink_file(root: Path, path: str | PurePath, field: str) -> int | None:
    """Delete one name (a link is removed, never followed); its size, or None when it did not exist."""
    with _parent(root, path, field) as (dfd, name):
        try:
            st = plat.lstat_at(dfd, name)
        except FileNotFoundError:
            return None
        if stat.S_ISDIR(st.st_mode):
            raise SandboxError("is a directory; only files are deleted", field=field, value=str(path))
        plat.unlink_at(dfd, name)
        return st.st_size if stat.S_ISREG(st.st_mode) else 0


@contextlib.contextmanager
def open_file(root: Path, path: str | PurePath, field: str) -> Iterator[BinaryIO | None]:
    """The file open for reading (None when it does not exist), every step from the root taken
    without following links: a link, or a file that is not regular, is refused at the moment of
    opening, so what is read is what was checked."""
    with _parent(root, path, field) as (dfd, name):
        try:
            fd = plat.open_at(dfd, name, os.O_RDONLY)
        except FileNotFoundError:
            yield None
            return
        except OSError as exc:
            _refuse_link(exc, path, field)
            raise
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise SandboxError(f"{str(path)!r} is not a regular file", field=field, value=str(path))
            yield fh


def read_file(root: Path, path: str | PurePath, field: str, limit: int | None = None) -> bytes | None:
    """The file's bytes (at most ``limit``), or None when it does not exist; a link is refused."""
    with open_file(root, path, field) as fh:
        if fh is None:
            return None
        return fh.read() if limit is None else fh.read(limit)


def replace_file(root: Path, path: str | PurePath, data: bytes, field: str, create_dirs: bool = False) -> None:
    """Put ``data`` at ``path`` in one step (a temporary name beside it, renamed over it)."""
    with _parent(root, path, field, create=create_dirs) as (dfd, name):
        tmp = f".{name}.soakwatch-tmp"
        with contextlib.suppress(FileNotFoundError):
            plat.unlink_at(dfd, tmp)
        fd = plat.open_at(dfd, tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            plat.replace_at(dfd, tmp, name)
        except BaseException:
            with contextlib.suppress(OSError):
                plat.unlink_at(dfd, tmp)
            raise
