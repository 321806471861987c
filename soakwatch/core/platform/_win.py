"""The Windows branch's decisions, apart from the Windows calls that carry them out.

Each function takes the operating-system calls it needs as arguments, so the logic (which
process gets which call, what counts as a link, how a path compares) is exercised on
Linux with fakes; :mod:`soakwatch.core.platform` passes the real calls on Windows.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import PureWindowsPath
from typing import Protocol

__all__ = [
    "FILE_ATTRIBUTE_REPARSE_POINT",
    "ProcessLike",
    "dump_event_name",
    "icacls_owner_only",
    "is_link_or_reparse",
    "signal_tree",
    "strip_extended_prefix",
    "win_inside",
]

#: st_file_attributes bit of a symlink, a junction or any other reparse point
#: (the value of stat.FILE_ATTRIBUTE_REPARSE_POINT, which only Windows' stat module defines)
FILE_ATTRIBUTE_REPARSE_POINT = 0x400


class ProcessLike(Protocol):
    """What the tree calls need of a ``psutil.Process``."""

    def kill(self) -> None: ...
    def suspend(self) -> None: ...
    def resume(self) -> None: ...
    def terminate(self) -> None: ...


def signal_tree(
    action: str,
    tree: Sequence[ProcessLike],
    ctrl_break: Callable[[], None] | None,
) -> None:
    """Carry out a POSIX signal's meaning on a Windows process tree (the process first, then its descendants).

    ``term``: Ctrl-Break to the process group when ``ctrl_break`` is given (the child was
    started with CREATE_NEW_PROCESS_GROUP and gets it as SIGBREAK: a graceful stop),
    else TerminateProcess of each process given; ``kill``: TerminateProcess on every
    process of the tree (Windows does not end a child with its parent, so the whole tree
    is named); ``stop``/``cont``: suspend/resume every process of the tree.
    """
    if action not in ("term", "kill", "stop", "cont"):
        raise ValueError(f"unknown process action {action!r} (expected term, kill, stop or cont)")
    if action == "term" and ctrl_break is not None:
        ctrl_break()
        return
    for proc in tree:
        if action == "term":
            proc.terminate()
        elif action == "kill":
            proc.kill()
        elif action == "stop":
            proc.suspend()
        else:
            proc.resume()


def is_link_or_reparse(st: os.stat_result, attributes: int) -> bool:
    """A symlink, or a junction/mount point/other reparse point, which lstat does not call a link."""
    return stat.S_ISLNK(st.st_mode) or bool(attributes & FILE_ATTRIBUTE_REPARSE_POINT)


def check_component(st: os.stat_result, attributes: int, path: str, want_dir: bool) -> None:
    """Refuse one step of a sandbox walk the way O_NOFOLLOW/O_DIRECTORY would: ELOOP, ENOTDIR."""
    if is_link_or_reparse(st, attributes):
        raise OSError(errno.ELOOP, "a link or reparse point", path)
    if want_dir and not stat.S_ISDIR(st.st_mode):
        raise OSError(errno.ENOTDIR, "not a directory", path)


def strip_extended_prefix(path: str) -> str:
    r"""``\\?\C:\x`` → ``C:\x`` and ``\\?\UNC\host\share`` → ``\\host\share``: the same file, comparable."""
    if path.startswith("\\\\?\\UNC\\"):
        return "\\\\" + path[8:]
    if path.startswith("\\\\?\\"):
        return path[4:]
    return path


def win_inside(base: str, path: str) -> bool:
    r"""True when ``path`` lies under ``base`` the way Windows compares them: case-insensitive,
    ``/`` and ``\`` alike, ``\\?\`` prefixes ignored."""
    b = PureWindowsPath(strip_extended_prefix(base))
    p = PureWindowsPath(strip_extended_prefix(path))
    return p.is_relative_to(b)


def icacls_owner_only(path: str, user: str) -> list[str]:
    """The command that makes ``path`` readable by its owner only on Windows (``os.chmod`` only sets
    the read-only bit there): drop inherited entries and grant full control to ``user`` alone."""
    return ["icacls", path, "/inheritance:r", "/grant:r", f"{user}:F"]


def dump_event_name(pid: int) -> str:
    """The named event a worker waits on for a stack dump (SIGUSR1 does not exist on Windows)."""
    return f"Local\\soakwatch-stacks-{pid}"
