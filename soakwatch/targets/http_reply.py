"""What every HTTP client of the HTTP target hands back: a :class:`Reply`, or a :class:`TransportError`
with the transport kind of :mod:`soakwatch.targets.http_check` (``Timeout``, ``ConnectionRefused``,
``ConnectionReset``, ``ConnectError``, ``ProtocolError``); and :class:`SlotClient`, what a client is.

Apart from :mod:`soakwatch.targets.http_clients` so the clients (aiohttp and httpx adapters there,
the fast client in :mod:`soakwatch.targets.http_fast`) share them without importing each other.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Reply", "SlotClient", "TransportError", "disconnected", "os_transport_error"]

#: how deep the cause chain of an exception is searched for the OS error behind it
CAUSE_DEPTH = 8


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str
    #: the answer's headers (case-insensitive), for ``[http] extract = { x = "header:X-Name" }``
    headers: Mapping[str, str] = field(default_factory=dict)


class TransportError(Exception):
    """No answer: ``kind`` is the error kind, ``timeout`` marks timeouts."""

    def __init__(self, kind: str, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.timeout = timeout


class SlotClient(Protocol):
    #: True when the client times each request out itself (``TransportError`` with ``timeout``)
    own_timeout: bool

    async def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Reply: ...

    async def aclose(self) -> None: ...


def _os_error(exc: BaseException) -> OSError | None:
    seen: BaseException | None = exc
    for _ in range(CAUSE_DEPTH):
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def os_transport_error(exc: BaseException, fallback: str) -> TransportError:
    """The transport kind of ``exc`` from the OS error behind it (refused, reset), else ``fallback``."""
    os_err = _os_error(exc)
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(os_err, ConnectionRefusedError) or (os_err and os_err.errno == errno.ECONNREFUSED):
        return TransportError("ConnectionRefused", text)
    if isinstance(os_err, ConnectionResetError | BrokenPipeError) or (
        os_err and os_err.errno in (errno.ECONNRESET, errno.EPIPE)
    ):
        return TransportError("ConnectionReset", text)
    return TransportError(fallback, text)


def disconnected(text: str) -> TransportError:
    """A connection the server closed before its answer was whole: ``ConnectionReset``."""
    return TransportError("ConnectionReset", f"server closed the connection without an answer ({text})")
