"""The platform module's Windows branch, run on Linux with the Windows calls replaced by fakes.

The module is loaded a second time with ``sys.platform`` set to ``"win32"`` and the names
only Windows has (SIGBREAK, CTRL_BREAK_EVENT, CREATE_NEW_PROCESS_GROUP, psutil's tree,
icacls) supplied by fakes that record what they were asked to do. Nothing here ran on a
real Windows machine; it checks the decisions, not the Windows calls themselves.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import signal
import socket
import stat
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import soakwatch.core.platform as real_platform
from soakwatch.core.platform import _files, _win

SIGBREAK = 21
CTRL_BREAK_EVENT = 1
CREATE_NEW_PROCESS_GROUP = 0x200


class FakeProc:
    """A psutil.Process that records what was done to it."""

    def __init__(self, pid: int, log: list[tuple[str, int]], children: list[FakeProc] | None = None) -> None:
        self.pid, self.log, self._children = pid, log, children or []

    def children(self, recursive: bool = False) -> list[FakeProc]:
        assert recursive
        out: list[FakeProc] = []
        for c in self._children:
            out += [c, *c.children(recursive=True)]
        return out

    def kill(self) -> None:
        self.log.append(("kill", self.pid))

    def terminate(self) -> None:
        self.log.append(("terminate", self.pid))

    def suspend(self) -> None:
        self.log.append(("suspend", self.pid))

    def resume(self) -> None:
        self.log.append(("resume", self.pid))


class NoSuchProcess(Exception):
    pass


@pytest.fixture
def win(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, list[tuple[str, int]], list[Any]]:
    """The platform module as Windows would load it; (module, process calls, other OS calls)."""
    log: list[tuple[str, int]] = []
    calls: list[Any] = []
    leaf = FakeProc(102, log)
    mid = FakeProc(101, log, [leaf])
    tree = {100: FakeProc(100, log, [mid]), 101: mid, 102: leaf}

    def process(pid: int) -> FakeProc:
        if pid not in tree:
            raise NoSuchProcess(pid)
        return tree[pid]

    fake_psutil = types.SimpleNamespace(
        Process=process, NoSuchProcess=NoSuchProcess, pid_exists=lambda pid: pid in tree
    )
    monkeypatch.setitem(sys.modules, "psutil", fake_psutil)
    monkeypatch.setattr(signal, "SIGBREAK", SIGBREAK, raising=False)
    monkeypatch.setattr(signal, "CTRL_BREAK_EVENT", CTRL_BREAK_EVENT, raising=False)
    monkeypatch.setattr(subprocess, "CREATE_NEW_PROCESS_GROUP", CREATE_NEW_PROCESS_GROUP, raising=False)
    monkeypatch.setattr(os, "kill", lambda pid, sig: calls.append(("os.kill", pid, sig)))
    monkeypatch.setattr(sys, "platform", "win32")
    spec = importlib.util.spec_from_file_location("soakwatch_platform_as_win32", real_platform.__file__)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, log, calls


def test_signals_on_windows(win: tuple[types.ModuleType, list[tuple[str, int]], list[Any]]) -> None:
    mod, _, _ = win
    # Ctrl-C, SIGTERM and Ctrl-Break (also sent when the console closes) stop the stage gracefully
    assert (int(signal.SIGINT), int(signal.SIGTERM), SIGBREAK) == mod.STOP_SIGNALS
    assert mod.HANGUP_SIGNALS == ()  # no SIGHUP: nothing to detach on
    assert mod.DEFAULT_CONTROL_TRANSPORT == "tcp"
    assert mod.uid() is None
    assert len({mod.SIGTERM, mod.SIGKILL, mod.SIGSTOP, mod.SIGCONT}) == 4
    assert (int(signal.SIGHUP),) == real_platform.HANGUP_SIGNALS  # and the POSIX branch, loaded for real
    assert real_platform.DEFAULT_CONTROL_TRANSPORT == "unix"


def test_process_groups_become_psutil_trees(win: tuple[types.ModuleType, list[tuple[str, int]], list[Any]]) -> None:
    mod, log, calls = win
    assert mod.new_group_kwargs() == {"creationflags": CREATE_NEW_PROCESS_GROUP}
    assert mod.shell_argv("echo 1 && exit 2")[1:] == ["/d", "/s", "/c", "echo 1 && exit 2"]
    mod.signal_group(100, mod.SIGKILL)
    assert log == [("kill", 100), ("kill", 101), ("kill", 102)]
    log.clear()
    mod.signal_group(100, mod.SIGSTOP)
    mod.signal_group(100, mod.SIGCONT)
    assert log == [("suspend", p) for p in (100, 101, 102)] + [("resume", p) for p in (100, 101, 102)]
    log.clear()
    mod.signal_group(100, mod.SIGTERM)  # a graceful stop: Ctrl-Break to the group, nothing terminated
    assert log == [] and calls == [("os.kill", 100, CTRL_BREAK_EVENT)]
    mod.signal_process(101, mod.SIGTERM)  # one process: TerminateProcess, its children left alone
    mod.signal_process(101, mod.SIGKILL)
    assert log == [("terminate", 101), ("kill", 101)]
    with pytest.raises(ProcessLookupError):
        mod.signal_group(999, mod.SIGKILL)
    assert mod.pid_exists(100) and not mod.pid_exists(999)
    assert ("os.kill", 999, 0) not in calls  # os.kill(pid, 0) would terminate the process on Windows


def test_interrupt_is_ctrl_break_and_a_hangup_is_never_forwarded(
    win: tuple[types.ModuleType, list[tuple[str, int]], list[Any]],
) -> None:
    mod, _, _ = win
    sent: list[int] = []
    proc = types.SimpleNamespace(send_signal=sent.append)
    mod.interrupt(proc)
    mod.forward_hangup(proc)
    assert sent == [CTRL_BREAK_EVENT]


def test_owner_only_is_an_acl_on_windows(
    win: tuple[types.ModuleType, list[tuple[str, int]], list[Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mod, _, _ = win
    ran: list[list[str]] = []

    def run(cmd: list[str], **kw: Any) -> None:
        assert (tmp_path / "t").read_bytes() == b""  # the ACL is set before the secret is written
        ran.append(cmd)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setenv("USERNAME", "alice")
    mod.write_owner_only(tmp_path / "t", b"secret")
    assert ran == [["icacls", str(tmp_path / "t"), "/inheritance:r", "/grant:r", "alice:F"]]
    assert (tmp_path / "t").read_bytes() == b"secret"
    with pytest.raises(OSError, match="tcp"):
        mod.unix_socket()


def test_the_signal_tree_refuses_an_unknown_action() -> None:
    with pytest.raises(ValueError, match="unknown process action"):
        _win.signal_tree("hup", [], None)


@pytest.mark.parametrize(
    ("base", "path", "inside"),
    [
        (r"C:\Runs\Root", r"c:\runs\root\state\a.json", True),  # case-insensitive
        (r"C:\Runs\Root", "C:/Runs/Root/state/a.json", True),  # either slash
        (r"C:\Runs\Root", r"\\?\C:\Runs\Root\a", True),  # extended-length prefix
        (r"\\?\C:\Runs\Root", r"C:\RUNS\ROOT", True),
        (r"C:\Runs\Root", r"C:\Runs\Rootx\a", False),  # a sibling with the same prefix
        (r"C:\Runs\Root", r"D:\Runs\Root\a", False),  # another drive
        (r"\\host\share\root", r"\\?\UNC\host\share\root\a", True),
        (r"\\host\share\root", r"\\host\other\root\a", False),
    ],
)
def test_windows_paths_compare_as_windows_does(base: str, path: str, inside: bool) -> None:
    assert _win.win_inside(base, path) is inside


def fake_stat(mode: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, 0, 0, 0, 0, 0, 0))


def test_a_reparse_point_is_a_link_to_the_sandbox() -> None:
    d, f, link = fake_stat(stat.S_IFDIR | 0o755), fake_stat(stat.S_IFREG | 0o644), fake_stat(stat.S_IFLNK | 0o777)
    assert _win.is_link_or_reparse(link, 0)
    assert _win.is_link_or_reparse(d, _win.FILE_ATTRIBUTE_REPARSE_POINT)  # a junction: a directory to lstat
    assert not _win.is_link_or_reparse(d, 0x10)  # FILE_ATTRIBUTE_DIRECTORY alone
    with pytest.raises(OSError) as exc:
        _win.check_component(d, _win.FILE_ATTRIBUTE_REPARSE_POINT | 0x10, "junction", want_dir=True)
    assert exc.value.errno == errno.ELOOP
    with pytest.raises(OSError) as exc:
        _win.check_component(f, 0, "file", want_dir=True)
    assert exc.value.errno == errno.ENOTDIR
    _win.check_component(f, 0, "file", want_dir=False)


def test_the_path_walk_without_dir_fd_refuses_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk Windows uses (a directory is a checked path, every step lstat-ed), on real files here."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "lf.txt").symlink_to(tmp_path / "real" / "f.txt")
    top: _files.Dir = str(tmp_path)
    with pytest.raises(OSError) as exc:
        _files.open_dir_at(top, "link")
    assert exc.value.errno == errno.ELOOP
    sub = _files.open_dir_at(top, "real")
    with pytest.raises(OSError) as exc:
        _files.open_at(sub, "lf.txt", os.O_RDONLY)
    assert exc.value.errno == errno.ELOOP
    fd = _files.open_at(sub, "f.txt", os.O_RDONLY)
    assert os.read(fd, 10) == b"x"
    os.close(fd)
    # a junction is not a symlink to lstat; its reparse-point attribute gives it away
    real_lstat = os.lstat

    def lstat_junction(path: str) -> Any:
        st = real_lstat(path)
        if path.endswith("real"):
            return types.SimpleNamespace(st_mode=st.st_mode, st_file_attributes=_win.FILE_ATTRIBUTE_REPARSE_POINT)
        return st

    monkeypatch.setattr(os, "lstat", lstat_junction)
    with pytest.raises(OSError) as exc:
        _files.open_dir_at(top, "real")
    assert exc.value.errno == errno.ELOOP


def test_the_unix_socket_is_the_posix_default() -> None:
    sock = real_platform.unix_socket()
    assert sock.family == socket.AF_UNIX
    sock.close()


def test_the_ready_pipe_is_passed_as_a_listed_handle(
    win: tuple[types.ModuleType, list[tuple[str, int]], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    mod, _, _ = win
    inheritable: list[tuple[int, bool]] = []
    fake_msvcrt = types.SimpleNamespace(get_osfhandle=lambda fd: 5000 + fd, open_osfhandle=lambda h, flags: h - 5000)
    monkeypatch.setitem(sys.modules, "msvcrt", fake_msvcrt)
    monkeypatch.setattr(os, "set_handle_inheritable", lambda h, on: inheritable.append((h, on)), raising=False)
    monkeypatch.setattr(subprocess, "STARTUPINFO", types.SimpleNamespace, raising=False)
    kwargs, number = mod.pass_fd(7)
    assert number == 5007 and inheritable == [(5007, True)]
    assert "pass_fds" not in kwargs and kwargs["startupinfo"].lpAttributeList == {"handle_list": [5007]}
    assert mod.inherited_fd(number) == 7  # the child turns the handle back into a descriptor


def test_a_stack_dump_is_requested_through_a_named_event(
    win: tuple[types.ModuleType, list[tuple[str, int]], list[Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import ctypes
    import threading

    mod, _, _ = win
    done = threading.Event()
    events: dict[str, int] = {}
    calls: list[Any] = []
    waits = iter([0, 0xFFFFFFFF])  # signalled once, then the wait fails: the thread ends

    class Kernel32:
        def CreateEventW(self, sec: Any, manual: bool, initial: bool, name: str) -> int:
            events[name] = 40
            return 40

        def WaitForSingleObject(self, handle: int, ms: int) -> int:
            result = next(waits)
            if result != 0:
                done.set()
            return result

        def OpenEventW(self, access: int, inherit: bool, name: str) -> int:
            return events.get(name, 0)

        def SetEvent(self, handle: int) -> None:
            calls.append(("SetEvent", handle))

        def CloseHandle(self, handle: int) -> None:
            calls.append(("CloseHandle", handle))

    monkeypatch.setattr(ctypes, "windll", types.SimpleNamespace(kernel32=Kernel32()), raising=False)
    with (tmp_path / "hang.txt").open("w") as fh:
        mod.install_stack_dump(fh)
        assert done.wait(10.0)
    assert list(events) == [f"Local\\soakwatch-stacks-{os.getpid()}"]
    assert "test_a_stack_dump_is_requested_through_a_named_event" in (tmp_path / "hang.txt").read_text()
    mod.request_stack_dump(os.getpid())
    assert calls == [("SetEvent", 40), ("CloseHandle", 40)]
    with pytest.raises(ProcessLookupError):
        mod.request_stack_dump(os.getpid() + 1)  # no such worker: no event by that name


def test_the_sandbox_check_on_windows_uses_windows_comparison(
    win: tuple[types.ModuleType, list[tuple[str, int]], list[Any]],
) -> None:
    """is_within, which the sandbox's inside()/is_inside() call, in its Windows branch."""
    from pathlib import PureWindowsPath

    mod, _, _ = win
    base = PureWindowsPath(r"C:\Runs\Root")
    assert mod.is_within(base, PureWindowsPath(r"\\?\c:\runs\ROOT\state\a.json"))
    assert not mod.is_within(base, PureWindowsPath(r"D:\Runs\Root\a"))
    assert not mod.is_within(base, PureWindowsPath(r"C:\Runs\Rootx"))


def _groups_as(platform: str, monkeypatch: pytest.MonkeyPatch, calls: list[Any]) -> types.ModuleType:
    """soakwatch.core.platform._groups loaded as ``platform`` would, its POSIX calls recorded."""
    from soakwatch.core.platform import _groups

    def recorder(name: str) -> Any:
        def call(*args: Any) -> int:
            calls.append((name, *args))
            return 0

        return call

    for name in ("setsid", "killpg", "getsid", "getpgid"):
        monkeypatch.setattr(os, name, recorder(name), raising=False)
    monkeypatch.setattr(sys, "platform", platform)
    spec = importlib.util.spec_from_file_location(f"soakwatch_groups_as_{platform}", _groups.__file__)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sessions_and_groups_are_left_alone_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    mod = _groups_as("win32", monkeypatch, calls)
    mod.lead_own_session()
    mod.kill_own_group()
    mod.kill_group(100)
    assert mod.arm_parent_death(int(signal.SIGTERM)) is False
    assert mod.group_members(100, [FakeProc(101, [])], lambda p: True) == []
    assert calls == []  # no setsid, killpg, getsid on Windows: the worker's tree is ended through psutil


def test_sessions_and_groups_on_posix_use_the_group_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    mod = _groups_as("linux", monkeypatch, calls)
    mod.lead_own_session()
    mod.kill_group(100)
    assert calls == [("setsid",), ("killpg", 100, signal.SIGKILL)]
