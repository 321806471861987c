"""Binding the control socket: a Unix socket reachable by its owner only, or loopback TCP with a token."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from pathlib import Path

from soakwatch.control import wire as wire
from soakwatch.core import platform as plat

__all__ = ["SOCKET_MODE", "bind_tcp", "bind_unix"]

SOCKET_MODE = 0o600


def bind_tcp(run_dir: Path, token: str) -> tuple[socket.socket, Path]:
    """127.0.0.1 at a port the kernel picks; host, port and ``token`` in control.tcp (owner-only:
    mode 0600 on POSIX, an ACL granting our user alone on Windows), written before the rename
    that makes it visible."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        target = run_dir / wire.TCP_NAME
        tmp = run_dir / f".{wire.TCP_NAME}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        plat.write_owner_only(tmp, wire.encode({"host": "127.0.0.1", "port": port, "token": token}))
        os.replace(tmp, target)
        return sock, target
    except BaseException:
        sock.close()
        raise


def bind_unix(run_dir: Path) -> tuple[socket.socket, Path, Path | None]:
    """(socket, its path, the private directory holding it when the run dir's path is too long)."""
    target = run_dir / wire.SOCKET_NAME
    sock = plat.unix_socket()
    try:
        if len(os.fsencode(target)) <= wire.MAX_UNIX_PATH:
            # bind in a private (0700) directory, tighten the mode, then move into place:
            # the socket is never reachable with a looser mode
            private = Path(tempfile.mkdtemp(prefix=".c", dir=run_dir))
            tmp = private / "s"
            sock.bind(str(tmp))
            os.chmod(tmp, SOCKET_MODE)
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            os.rename(tmp, target)
            private.rmdir()
            return sock, target, None
        # the run dir's path is too long for AF_UNIX: a short private dir, named in control.addr
        base = tempfile.gettempdir()
        if len(os.fsencode(base)) > wire.MAX_UNIX_PATH - 40:
            base = "/tmp"
        private_dir = Path(tempfile.mkdtemp(prefix="soakwatch-", dir=base))
        path = private_dir / wire.SOCKET_NAME
        sock.bind(str(path))
        os.chmod(path, SOCKET_MODE)
        addr = run_dir / wire.ADDR_NAME
        tmp_addr = addr.with_suffix(".tmp")
        tmp_addr.write_text(str(path) + "\n", encoding="utf-8")
        os.replace(tmp_addr, addr)
        return sock, path, private_dir
    except BaseException:
        sock.close()
        raise
