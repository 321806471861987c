"""HTTP client adapters for the HTTP target: aiohttp (HTTP/1.1, fast) and httpx (HTTP/1.1 and HTTP/2).

Both send one request and read the whole answer into a :class:`Reply`, or raise
:class:`TransportError` with the transport kind of :mod:`soakwatch.targets.http_check`
(``Timeout``, ``ConnectionRefused``, ``ConnectionReset``, ``ConnectError``,
``ProtocolError``). Neither retries: one call is one request, so the target's own
counters and soakwatch's agree.

Why two clients, measured at concurrency 16 on a shared 2-core box through ``soakwatch
run``: against a raw asyncio HTTP/1.1 server, aiohttp ~2,600-3,800 calls/s, httpx with
one single-connection client per slot ~750 (a single shared httpx pool managed only
~70-110 req/s in a bare loop, so it is not used for HTTP/1.1); against the stdlib example
service, aiohttp ~1,650 (the service is the limit) and httpx ~660. httpx stays for
HTTP/2, which aiohttp does not speak; ``[http] client`` picks one explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Reply", "SlotClient", "TransportError", "disconnected", "make_clients", "os_transport_error"]

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


# ---------------------------------------------------------------- httpx
def httpx_error(exc: BaseException) -> TransportError | None:
    """What an httpx exception means as a call's error kind; None when it is not a transport error."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return TransportError("Timeout", f"{type(exc).__name__}: no answer in time", True)
    if isinstance(exc, httpx.ConnectError):
        return os_transport_error(exc, "ConnectError")
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in str(exc) or "disconnected" in str(exc):
            return disconnected(str(exc))
        return TransportError("ProtocolError", str(exc))
    if isinstance(exc, httpx.TransportError):
        return os_transport_error(exc, "ProtocolError")
    return None


class _HttpxClient:
    def __init__(self, client: Any, shared: bool) -> None:
        self.client = client
        self.shared = shared

    async def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Reply:

        try:
            r = await self.client.request(method, url, headers=headers, content=content)
        except Exception as exc:
            raise httpx_error(exc) or exc from None
        return Reply(r.status_code, r.content, r.headers.get("content-type", ""), r.headers)

    async def aclose(self) -> None:
        await self.client.aclose()


def _httpx_clients(concurrency: int, timeout: float, http2: bool, verify: bool, url: str) -> list[SlotClient]:
    import httpx

    tmo = httpx.Timeout(timeout)
    if http2:
        # one pool multiplexes every slot; over cleartext http:// HTTP/2 needs prior knowledge
        http1 = url.startswith("https://")
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        shared = httpx.AsyncClient(http1=http1, http2=True, timeout=tmo, limits=limits, verify=verify)
        c = _HttpxClient(shared, True)
        return [c] * concurrency
    # one single-connection client per slot: httpx's shared pool costs O(connections × requests)
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [_HttpxClient(httpx.AsyncClient(timeout=tmo, limits=one, verify=verify), False) for _ in range(concurrency)]


# ---------------------------------------------------------------- aiohttp
def aiohttp_error(exc: BaseException) -> TransportError | None:
    """What an aiohttp exception means as a call's error kind; None when it is not a transport error."""
    import aiohttp

    if isinstance(exc, (TimeoutError, aiohttp.ServerTimeoutError)):
        return TransportError("Timeout", "no answer in time", True)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return disconnected(str(exc) or "server disconnected")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return os_transport_error(exc.os_error, "ConnectError")
    if isinstance(exc, aiohttp.ClientOSError):
        return os_transport_error(exc, "ConnectError")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return os_transport_error(exc, "ProtocolError")
    if isinstance(exc, aiohttp.ClientResponseError):
        return TransportError("ProtocolError", f"{type(exc).__name__}: {exc.message}")
    return None


class _AiohttpClient:
    def __init__(self, session: Any) -> None:
        self.session = session

    async def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Reply:
        try:
            async with self.session.request(method, url, headers=headers, data=content) as r:
                body = await r.read()
                return Reply(r.status, body, r.headers.get("Content-Type", ""), r.headers)
        except Exception as exc:
            raise aiohttp_error(exc) or exc from None

    async def aclose(self) -> None:
        await self.session.close()


def _aiohttp_clients(concurrency: int, timeout: float, verify: bool) -> list[SlotClient]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, ssl=verify)
    session = aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout), auto_decompress=True
    )
    # aiohttp resends an idempotent request once when a kept-alive connection was closed;
    # a load tester must not: the server would count two requests for one call
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    c = _AiohttpClient(session)
    return [c] * concurrency


async def close_all(clients: list[SlotClient]) -> None:
    """Close each distinct client once."""
    seen: set[int] = set()
    for c in clients:
        if id(c) not in seen:
            seen.add(id(c))
            # closing after a failed run must not hide the run's own outcome
            with contextlib.suppress(Exception):
                await c.aclose()
            await asyncio.sleep(0)


def make_clients(
    engine: str, concurrency: int, timeout: float, *, http2: bool, verify: bool, url: str
) -> list[SlotClient]:
    """One client per concurrency slot (the same shared object where the engine pools itself)."""
    if engine == "fast":
        from soakwatch.targets.http_fast import FastClient  # imports httptools only when it runs

        return [FastClient() for _ in range(concurrency)]
    if engine == "aiohttp":
        return _aiohttp_clients(concurrency, timeout, verify)
    return _httpx_clients(concurrency, timeout, http2, verify, url)
