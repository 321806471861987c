"""A raw connection to a run's control endpoint, over whichever transport the stage chose (for tests
that need a socket that does not read, or send malformed bytes)."""

from __future__ import annotations

import socket
from pathlib import Path

from soakwatch.control import wire


def raw_connect(run_dir: Path, rcvbuf: int | None = None, token: str | None = None) -> socket.socket:
    """Connected; over tcp the token (``token`` instead of the right one, when given) is sent first."""
    ep = wire.endpoint(run_dir)
    assert ep is not None, f"no control endpoint in {run_dir}"
    family = socket.AF_UNIX if ep.path is not None else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(str(ep.path) if ep.path is not None else (ep.host, ep.port))
    if ep.path is None:
        sock.sendall(wire.auth_line(ep.token if token is None else token))
    return sock
