"""Opening a connection to a run's control endpoint, over either transport (see :mod:`soakwatch.control.wire`)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from soakwatch.control import wire as wire
from soakwatch.core import platform as plat

__all__ = ["connect", "open_stream"]


def connect(ep: wire.Endpoint, timeout: float | None = None) -> socket.socket:
    """A connected blocking socket; a tcp one has sent its token already. OSError when nobody listens."""
    if ep.path is not None:
        sock = plat.unix_socket()
        sock.settimeout(timeout)
        try:
            sock.connect(str(ep.path))
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)
        return sock
    sock = socket.create_connection((ep.host, ep.port), timeout=timeout)
    try:
        sock.sendall(wire.auth_line(ep.token))
    except BaseException:
        sock.close()
        raise
    sock.settimeout(None)
    return sock


async def open_stream(ep: wire.Endpoint, limit: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """asyncio streams to the endpoint; a tcp one has sent its token already."""
    streams: tuple[Any, Any]
    if ep.path is not None:
        streams = await plat.open_unix_connection(str(ep.path), limit)
        return streams[0], streams[1]
    reader, writer = await asyncio.open_connection(ep.host, ep.port, limit=limit)
    writer.write(wire.auth_line(ep.token))
    return reader, writer
