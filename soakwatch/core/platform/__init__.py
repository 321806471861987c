"""Every call that differs between POSIX and Windows, in one place.

Signals, process groups, the control socket's family, owner-only files and the
no-follow file walk of the sandbox each have a POSIX branch and a Windows branch here,
chosen by literal ``sys.platform == "win32"`` checks (which ``mypy --platform win32``
follows, so no POSIX-only name is used unguarded). Nothing outside this package asks
which platform it runs on. The Windows branch's decisions live in
:mod:`soakwatch.core.platform._win` with the Windows calls passed in, so they are tested
on Linux with fakes; none of the Windows branch has run on a real Windows machine yet.

What differs on Windows:

- signals: Ctrl-C is SIGINT; Ctrl-Break (and closing the console) is SIGBREAK, which
  stops a stage gracefully like SIGTERM; there is no SIGHUP, so no "detach on hang-up";
- process groups: a child is started with CREATE_NEW_PROCESS_GROUP; "SIGTERM" to its
  group is Ctrl-Break, "SIGKILL"/"SIGSTOP"/"SIGCONT" act on its psutil process tree;
- a hung worker's stacks: a named event the worker's dump thread waits on, instead of SIGUSR1;
- the control socket: loopback TCP with a token (:mod:`soakwatch.control.wire`);
- owner-only files: an ACL set with ``icacls`` instead of ``chmod 600``.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from soakwatch.core.platform import _win
from soakwatch.core.platform._files import (
    Dir,
    close_dir,
    lstat_at,
    mkdir_at,
    open_at,
    open_dir,
    open_dir_at,
    replace_at,
    unlink_at,
)
from soakwatch.core.platform._groups import (
    arm_parent_death,
    group_members,
    kill_group,
    kill_own_group,
    lead_own_session,
)

__all__ = [
    "DEFAULT_CONTROL_TRANSPORT",
    "EXIT_HANGUP",
    "HANGUP_SIGNALS",
    "SIGCONT",
    "SIGKILL",
    "SIGSTOP",
    "SIGTERM",
    "STOP_SIGNALS",
    "Dir",
    "arm_parent_death",
    "close_dir",
    "forward_hangup",
    "group_members",
    "inherited_fd",
    "install_stack_dump",
    "interrupt",
    "is_within",
    "kill_group",
    "kill_own_group",
    "lead_own_session",
    "lstat_at",
    "mkdir_at",
    "new_group_kwargs",
    "open_at",
    "open_dir",
    "open_dir_at",
    "open_unix_connection",
    "pass_fd",
    "pid_exists",
    "replace_at",
    "request_stack_dump",
    "resolve",
    "shell_argv",
    "signal_group",
    "signal_process",
    "uid",
    "unix_socket",
    "unlink_at",
    "usable_cores",
    "write_owner_only",
]

#: the CLI's exit status when its terminal hung up: 128 + SIGHUP (1), as a shell reports it
EXIT_HANGUP = 129

if sys.platform == "win32":
    #: signal numbers as the rest of soakwatch names them; on Windows only SIGTERM is a real
    #: signal and the others are carried out on the process tree (see signal_group)
    SIGTERM = int(signal.SIGTERM)
    SIGKILL = 9
    SIGSTOP = 19
    SIGCONT = 18
    #: a graceful stop (a second one stops at once): Ctrl-C, SIGTERM, Ctrl-Break / console closed
    STOP_SIGNALS: tuple[int, ...] = (int(signal.SIGINT), int(signal.SIGTERM), int(signal.SIGBREAK))
    #: the terminal went away (the stage goes on headless); Windows has none
    HANGUP_SIGNALS: tuple[int, ...] = ()
    DEFAULT_CONTROL_TRANSPORT = "tcp"
else:
    SIGTERM = int(signal.SIGTERM)
    SIGKILL = int(signal.SIGKILL)
    SIGSTOP = int(signal.SIGSTOP)
    SIGCONT = int(signal.SIGCONT)
    STOP_SIGNALS = (int(signal.SIGINT), int(signal.SIGTERM))
    HANGUP_SIGNALS = (int(signal.SIGHUP),)
    DEFAULT_CONTROL_TRANSPORT = "unix"

_ACTIONS = {SIGTERM: "term", SIGKILL: "kill", SIGSTOP: "stop", SIGCONT: "cont"}


# -------------------------------------------------------------------- processes
def new_group_kwargs() -> dict[str, Any]:
    """``subprocess.Popen`` arguments that start a child in a process group of its own."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def signal_group(pid: int, sig: int) -> None:
    """``sig`` (SIGTERM, SIGKILL, SIGSTOP, SIGCONT) to the group led by ``pid`` (started with
    :func:`new_group_kwargs`); ProcessLookupError when it is gone."""
    if sys.platform == "win32":
        _win_tree(pid, sig, group=True)
        return
    try:
        os.killpg(pid, sig)
    except PermissionError:  # the leader is ours but the group is not (it left it): the leader alone
        os.kill(pid, sig)


def signal_process(pid: int, sig: int) -> None:
    """``sig`` to one process; ProcessLookupError when it is gone."""
    if sys.platform == "win32":
        _win_tree(pid, sig, group=False)
        return
    os.kill(pid, sig)


def _win_tree(pid: int, sig: int, group: bool) -> None:
    """The Windows branch of signal_group/signal_process, through psutil."""
    if sys.platform == "win32":
        import psutil

        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)] if group else [root]
            brk = (lambda: os.kill(pid, signal.CTRL_BREAK_EVENT)) if group else None
            _win.signal_tree(_ACTIONS[sig], tree, brk)
        except psutil.NoSuchProcess:
            raise ProcessLookupError(pid) from None


def shell_argv(command: str) -> list[str]:
    """The argv that runs ``command`` in the platform's shell: ``/bin/sh -c``, or ``cmd.exe /d /s /c`` on Windows."""
    if sys.platform == "win32":
        return [os.environ.get("COMSPEC", "cmd.exe"), "/d", "/s", "/c", command]
    return ["/bin/sh", "-c", command]


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system keeps one), at least 1."""
    if sys.platform == "linux":
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def pid_exists(pid: int) -> bool:
    """True while a process with this pid exists (a zombie still counts; callers tell them apart)."""
    if sys.platform == "win32":
        import psutil

        return bool(psutil.pid_exists(pid))  # os.kill(pid, 0) would terminate it on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def interrupt(proc: subprocess.Popen[Any]) -> None:
    """What Ctrl-C at the terminal does to a child started with :func:`new_group_kwargs`: a graceful stop."""
    if sys.platform == "win32":
        proc.send_signal(signal.CTRL_BREAK_EVENT)  # Ctrl-C cannot be sent to another process group
    else:
        proc.send_signal(signal.SIGINT)


def forward_hangup(proc: subprocess.Popen[Any]) -> None:
    """Pass a hang-up on to a child (POSIX only: Windows has no SIGHUP, and nothing calls this there)."""
    if sys.platform != "win32":
        proc.send_signal(signal.SIGHUP)


def pass_fd(fd: int) -> tuple[dict[str, Any], int]:
    """(``Popen`` arguments that let a child inherit ``fd``, the number to tell the child).

    POSIX: ``pass_fds`` and the descriptor itself. Windows: the descriptor's handle made
    inheritable and listed in STARTUPINFO's handle list (no other handle leaks), and the
    handle's number, which the child turns back into a descriptor with :func:`inherited_fd`.
    """
    if sys.platform == "win32":
        import msvcrt

        handle = msvcrt.get_osfhandle(fd)
        os.set_handle_inheritable(handle, True)
        info = subprocess.STARTUPINFO()
        info.lpAttributeList = {"handle_list": [handle]}
        return {"startupinfo": info}, handle
    return {"pass_fds": (fd,)}, fd


def inherited_fd(number: int) -> int:
    """In the child: the descriptor for the number :func:`pass_fd` gave the parent."""
    if sys.platform == "win32":
        import msvcrt

        return msvcrt.open_osfhandle(number, os.O_WRONLY)
    return number


# -------------------------------------------------------------------- stack dumps of a hung worker
def install_stack_dump(fh: IO[str]) -> None:
    """In a worker: write every thread's stack to ``fh`` when :func:`request_stack_dump` asks."""
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.CreateEventW(None, False, False, _win.dump_event_name(os.getpid()))

        def wait() -> None:  # a thread: the main thread may be stuck in the call being measured
            while kernel32.WaitForSingleObject(handle, 0xFFFFFFFF) == 0:
                faulthandler.dump_traceback(fh, all_threads=True)
                fh.flush()

        threading.Thread(target=wait, name="stack-dump", daemon=True).start()
    else:
        faulthandler.register(signal.SIGUSR1, file=fh, all_threads=True)


def request_stack_dump(pid: int) -> None:
    """Ask worker ``pid`` for its stacks (see :func:`install_stack_dump`); ProcessLookupError when gone."""
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenEventW(0x0002, False, _win.dump_event_name(pid))  # EVENT_MODIFY_STATE
        if not handle:
            raise ProcessLookupError(pid)
        kernel32.SetEvent(handle)
        kernel32.CloseHandle(handle)
    else:
        os.kill(pid, signal.SIGUSR1)


# -------------------------------------------------------------------- sockets, users, files
def uid() -> int | None:
    """Our user id, where the kernel can tell a socket peer's (None on Windows: the token decides)."""
    if sys.platform == "win32":
        return None
    return os.getuid()


def unix_socket() -> socket.socket:
    """A new Unix stream socket; OSError on Windows (the control transport there is TCP)."""
    if sys.platform == "win32":
        raise OSError("Unix sockets are not used on Windows; the control transport there is tcp")
    return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)


async def open_unix_connection(path: str, limit: int) -> tuple[Any, Any]:
    """asyncio streams over a Unix socket (asyncio has none on Windows)."""
    if sys.platform == "win32":
        raise OSError("Unix sockets are not used on Windows; the control transport there is tcp")
    import asyncio

    return await asyncio.open_unix_connection(path, limit=limit)


def write_owner_only(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) readable and writable by our user only.

    POSIX: created with mode 0600 in one step. Windows: ``os.chmod`` sets only the read-only
    bit there, so the file's inherited ACL entries are removed and our user alone is
    granted full control (``icacls PATH /inheritance:r /grant:r USER:F``) before the
    secret is written into it.
    """
    if sys.platform == "win32":
        with open(path, "xb"):
            pass
        user = os.environ.get("USERNAME") or os.getlogin()
        subprocess.run(_win.icacls_owner_only(str(path), user), check=True, capture_output=True)
        with open(path, "wb") as fh:
            fh.write(data)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def resolve(path: Path) -> Path:
    r"""``path.resolve()``, comparable with another resolved path (on Windows without a ``\\?\`` prefix)."""
    resolved = path.resolve()
    if sys.platform == "win32":
        return Path(_win.strip_extended_prefix(str(resolved)))
    return resolved


def is_within(base: Path, path: Path) -> bool:
    r"""``path`` lies under ``base`` (both resolved); on Windows case-insensitively, ``/`` and ``\``
    alike, ``\\?\`` prefixes ignored, another drive never."""
    if sys.platform == "win32":
        return _win.win_inside(str(base), str(path))
    return path.is_relative_to(base)
